"""Parsing Alertmanager and Grafana webhooks (against the public sample payloads)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from bot.paging.domain.alerts import PayloadError, dedup_key, group_identity, label_fingerprint, parse_webhook
from tests.paging.payloads import load_json, load_text


def test_alertmanager_firing_without_fingerprint():
    group = parse_webhook(load_text("alertmanager_firing.json"))
    assert group.source == "alertmanager"
    assert group.status == "firing"
    assert group.receiver == "telegram"
    assert group.group_key == '{}:{alertname="Fire"}'
    assert group.external_url == "http://localhost:9093"
    assert group.common_labels == {"alertname": "Fire", "severity": "critical"}
    assert group.truncated_alerts == 0  # absent in 2018-era payloads
    [alert] = group.alerts
    assert alert.status == "firing"
    assert alert.labels == {"alertname": "Fire", "severity": "critical"}
    assert alert.annotations == {"message": "Something is on fire"}
    assert alert.summary == "Something is on fire"
    assert alert.title == "[FIRING] Fire: Something is on fire"
    # "\u0026" in the file is a JSON escape for "&".
    assert alert.generator_url == "http://localhost:9090/graph?g0.expr=vector%28666%29&g0.tab=1"
    # Nanosecond timestamp with a +01:00 offset, kept tz-aware.
    assert alert.starts_at == datetime(2018, 11, 4, 21, 43, 58, 283995, tzinfo=timezone.utc)
    assert alert.starts_at.utcoffset() == timedelta(hours=1)
    assert alert.ends_at == datetime(2018, 11, 4, 21, 46, 58, 283995, tzinfo=timezone.utc)
    # No fingerprint in the payload: derived from the labels.
    assert not alert.fingerprint_from_payload
    assert alert.fingerprint == label_fingerprint({"alertname": "Fire", "severity": "critical"})
    assert len(alert.fingerprint) == 16


def test_alertmanager_resolved_pairs_with_firing():
    firing = parse_webhook(load_text("alertmanager_firing.json")).alerts[0]
    resolved_group = parse_webhook(load_text("alertmanager_resolved.json"))
    resolved = resolved_group.alerts[0]
    assert resolved_group.status == "resolved"
    assert resolved.status == "resolved"
    assert resolved.ends_at == datetime(2018, 11, 4, 21, 48, 13, 283995, tzinfo=timezone.utc)
    assert resolved.fingerprint == firing.fingerprint  # same labels -> same derived fingerprint
    assert dedup_key(resolved) != dedup_key(firing)
    assert resolved.group_key == firing.group_key


def test_alertmanager_two_alerts_with_fingerprints():
    group = parse_webhook(load_json("alertmanager_firing_2alerts_oncall.json"))
    assert group.receiver == "combo"
    assert group.group_key == '{}:{alertname="InstanceDown"}'
    assert group.external_url is None  # "" in the payload
    assert [a.fingerprint for a in group.alerts] == ["f404ecabc8dd5cd7", "f8f08d4e32c61a9d"]
    assert all(a.fingerprint_from_payload for a in group.alerts)
    first = group.alerts[0]
    assert first.labels["instance"] == "localhost:8081"
    assert first.labels["group"] == "production"
    assert first.summary == "Instance localhost:8081 down"  # from the "title" annotation
    assert first.description == "localhost:8081 of job node has been down for more than 1 minute."
    assert first.generator_url is None  # "" in the payload
    assert first.starts_at == datetime(2023, 6, 12, 8, 24, 38, 326000, tzinfo=timezone.utc)
    assert first.ends_at is None  # Go zero time means "still firing"
    assert len(group.firing) == 2 and group.resolved == []


def test_alertmanager_resolved_with_fingerprint_edge_cases():
    group = parse_webhook(load_text("alertmanager_resolved_with_fingerprint.json").encode("utf-8"))
    assert group.receiver == "web\\.hook"
    assert group.status == "resolved"
    [alert] = group.alerts
    assert alert.fingerprint == "fbab788ec4c1018b"
    assert alert.labels["severity"] == "Warning"
    assert alert.labels["namespace"] == "eric-eo-cm-ci406"
    assert alert.summary == "Kubernetes Deployment Replicas Mismatch"
    assert alert.starts_at == datetime(2022, 7, 29, 11, 13, 27, 300000, tzinfo=timezone.utc)
    assert alert.ends_at == datetime(2022, 7, 29, 11, 17, 27, 300000, tzinfo=timezone.utc)
    assert alert.generator_url.startswith("/metrics/viewer/graph?g0.expr=kube_deployment_spec_replicas")


def test_grafana_webhook():
    group = parse_webhook(load_text("grafana_webhook_firing.json"))
    assert group.source == "grafana"
    assert group.org_id == 1
    assert group.title == "[FIRING:2]  (blue)"
    assert group.receiver == "My Super Webhook"
    assert group.common_labels == {"team": "blue"}
    assert len(group.alerts) == 2
    mem, cpu = group.alerts
    assert mem.source == "grafana"
    assert mem.name == "High memory usage"
    assert mem.labels == {"alertname": "High memory usage", "team": "blue", "zone": "us-1"}
    assert mem.summary == "This alert was triggered for zone us-1"
    assert mem.runbook_url == "https://myrunbook.com/runbook/1234"
    assert mem.fingerprint == "c6eadffa33fcdf37"
    assert mem.silence_url.startswith("https://play.grafana.org/alerting/silence/new?alertmanager=grafana")
    assert mem.dashboard_url is None and mem.panel_url is None  # "" in the payload
    assert mem.generator_url == "https://play.grafana.org/alerting/1afz29v7z/edit"
    assert mem.value_string == "B=44.23943737541908, C=1"
    assert mem.starts_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=timezone.utc)
    assert mem.ends_at is None
    assert cpu.fingerprint == "bc97ff14869b13e3"
    assert cpu.labels["zone"] == "eu-1"


def test_grafana_value_string_and_urls_preferred_when_present():
    data = load_json("grafana_webhook_firing.json")
    data["alerts"][0]["valueString"] = "[ var='B' labels={zone=us-1} value=44.2 ]"
    data["alerts"][0]["dashboardURL"] = "https://play.grafana.org/d/abc"
    data["alerts"][0]["panelURL"] = "https://play.grafana.org/d/abc?viewPanel=2"
    alert = parse_webhook(data).alerts[0]
    assert alert.value_string == "[ var='B' labels={zone=us-1} value=44.2 ]"
    assert alert.dashboard_url == "https://play.grafana.org/d/abc"
    assert alert.panel_url == "https://play.grafana.org/d/abc?viewPanel=2"


def test_source_can_be_forced():
    group = parse_webhook(load_text("alertmanager_firing.json"), source="grafana")
    assert group.source == "grafana" and group.alerts[0].source == "grafana"


def test_unknown_fields_are_ignored():
    data = load_json("alertmanager_firing.json")
    data["notification_reason"] = "new"
    data["routeLabels"] = {"team": "x"}
    data["alerts"][0]["somethingNew"] = [1, 2, 3]
    assert parse_webhook(data).alerts[0].labels["alertname"] == "Fire"


def test_fingerprint_fallback_is_stable_across_label_order():
    a = {"status": "firing", "labels": {"alertname": "X", "team": "payments", "env": "prod"}}
    b = {"status": "firing", "labels": {"env": "prod", "team": "payments", "alertname": "X"}}
    c = {"status": "firing", "labels": {"env": "prod", "team": "search", "alertname": "X"}}
    fa = parse_webhook({"alerts": [a]}).alerts[0].fingerprint
    fb = parse_webhook(json.dumps({"alerts": [b]})).alerts[0].fingerprint
    fc = parse_webhook({"alerts": [c]}).alerts[0].fingerprint
    assert fa == fb
    assert fa != fc
    # Known value, so an accidental change of the hashing scheme (which would re-page everything) is caught.
    assert fa == label_fingerprint({"team": "payments", "alertname": "X", "env": "prod"})
    # = first 16 hex of sha256('[["alertname","X"],["env","prod"],["team","payments"]]'), checked with sha256sum.
    assert fa == "f59dc214bc7b083a"


def test_empty_fingerprint_falls_back_to_labels():
    alert = parse_webhook({"alerts": [{"status": "firing", "labels": {"a": "b"}, "fingerprint": "  "}]}).alerts[0]
    assert alert.fingerprint == label_fingerprint({"a": "b"})


def test_dedup_key_same_for_resend_different_for_refire():
    data = load_json("alertmanager_firing_2alerts_oncall.json")
    first = parse_webhook(data).alerts[0]
    resent = parse_webhook(load_json("alertmanager_firing_2alerts_oncall.json")).alerts[0]
    assert dedup_key(first) == dedup_key(resent)
    assert dedup_key(first).startswith("f404ecabc8dd5cd7:firing:")
    data["alerts"][0]["startsAt"] = "2023-06-12T10:00:00Z"  # fired again after resolving
    assert dedup_key(parse_webhook(data).alerts[0]) != dedup_key(first)
    data["alerts"][0]["status"] = "resolved"
    assert ":resolved:" in dedup_key(parse_webhook(data).alerts[0])


def test_group_identity_distinguishes_grafana_receivers():
    data = load_json("grafana_webhook_firing.json")
    one = group_identity(parse_webhook(data))
    data["receiver"] = "Another"
    two = group_identity(parse_webhook(data))
    assert one != two  # both have groupKey "{}:{}"
    assert one == group_identity(parse_webhook(load_json("grafana_webhook_firing.json")))


def test_group_status_derived_when_absent():
    payload = {"alerts": [{"status": "resolved", "labels": {"a": "1"}}, {"status": "firing", "labels": {"a": "2"}}]}
    assert parse_webhook(payload).status == "firing"
    payload["alerts"].pop()
    assert parse_webhook(payload).status == "resolved"


def test_too_many_alerts_rejected():
    payload = {"alerts": [{"status": "firing", "labels": {"n": str(i)}} for i in range(3)]}
    with pytest.raises(PayloadError, match=r"too many alerts in one request: 3 \(the limit is 2\)"):
        parse_webhook(payload, max_alerts=2)


@pytest.mark.parametrize(
    "body, message",
    [
        (b"\xff\xfe", "body is not UTF-8 text"),
        ("{not json", "body is not valid JSON"),
        ("[1, 2]", "body must be a JSON object, got a list"),
        ('"hello"', "body must be a JSON object, got a string"),
        ({"status": "firing"}, "missing 'alerts': expected an Alertmanager or Grafana webhook payload"),
        ({"alerts": {"a": 1}}, "'alerts' must be a list, got an object"),
        ({"alerts": ["x"]}, "alerts[0] must be an object, got a string"),
        ({"alerts": [{"labels": {"a": "b"}}]}, "alerts[0] has no 'status'"),
        ({"alerts": [{"status": "pending", "labels": {"a": "b"}}]}, "alerts[0].status must be 'firing' or 'resolved', got 'pending'"),
        ({"alerts": [{"status": "firing"}]}, "alerts[0] has no 'labels'"),
        ({"alerts": [{"status": "firing", "labels": {}}]}, "alerts[0].labels is empty: an alert needs at least one label"),
        ({"alerts": [{"status": "firing", "labels": ["a"]}]}, "'alerts[0].labels' must be an object of strings, got a list"),
        ({"alerts": [{"status": "firing", "labels": {"a": 1}}]}, "'alerts[0].labels.a' must be a string, got a number"),
        ({"alerts": [{"status": "firing", "labels": {"a": "b"}, "annotations": "x"}]}, "'alerts[0].annotations' must be an object of strings, got a string"),
        ({"alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": 5}]}, "alerts[0].startsAt must be an RFC 3339 timestamp string, got a number"),
        ({"alerts": [{"status": "firing", "labels": {"a": "b"}, "startsAt": "yesterday"}]}, "alerts[0].startsAt is not an RFC 3339 timestamp: 'yesterday'"),
        ({"alerts": [{"status": "firing", "labels": {"a": "b"}, "fingerprint": 7}]}, "'alerts[0].fingerprint' must be a string, got a number"),
        ({"alerts": [], "status": "broken"}, "'status' must be 'firing' or 'resolved', got 'broken'"),
        ({"alerts": [], "groupKey": ["x"]}, "'groupKey' must be a string, got a list"),
        ({"alerts": [], "truncatedAlerts": "2"}, "'truncatedAlerts' must be an integer, got a string"),
    ],
)
def test_malformed_payloads(body, message):
    with pytest.raises(PayloadError) as info:
        parse_webhook(body)
    assert str(info.value).startswith(message)


def test_payload_error_is_a_value_error():
    assert issubclass(PayloadError, ValueError)
