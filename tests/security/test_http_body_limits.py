"""Body caps (413 before the rest is read) and hostile JSON for the webhooks: a clear 400, never a 5xx."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import BASE_CONFIG
from tests.security import WEBHOOK_TOKEN, alertmanager_payload, post_webhook, slack_activity

WEBHOOKS = ["/webhooks/alertmanager", "/webhooks/grafana", "/webhooks/changes"]


@pytest.fixture
def webhook_harness(harness_factory, monkeypatch):
    monkeypatch.setenv("FIREWATCH_WEBHOOK_TOKEN", WEBHOOK_TOKEN)

    def start(**settings):
        return harness_factory(BASE_CONFIG, **settings)

    return start


def test_slack_body_over_one_megabyte_gets_413(harness):
    h = harness
    before = slack_activity(h.fake)
    r = h.sender.post("text=" + "a" * (1024 * 1024), "application/x-www-form-urlencoded")
    assert r.status_code == 413
    assert slack_activity(h.fake) == before


def test_streamed_slack_body_without_content_length_is_capped(harness_factory):
    h = harness_factory(slack_max_body_bytes=2048)

    def chunks():
        for _ in range(64):
            yield b"a" * 1024

    r = httpx.post(h.sender.events_url, content=chunks(), timeout=10,
                   headers={"Content-Type": "application/x-www-form-urlencoded",
                            "X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=" + "0" * 64})
    assert r.status_code == 413


@pytest.mark.parametrize("value", ["12abc", "-1", "١٢", "99999999999999999999"])
def test_bad_content_length_is_refused(harness, value):
    import socket
    from urllib.parse import urlsplit

    # httpx will not send a lying Content-Length, so speak HTTP/1.1 directly.
    parts = urlsplit(harness.sender.events_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: " + value.encode() +
                     b"\r\nConnection: close\r\n\r\n")
        reply = conn.recv(200)
    status = int(reply.split(b" ", 2)[1])
    assert status in (400, 413), reply


def test_webhook_cap_is_configurable_and_defaults_to_5_mb(webhook_harness):
    h = webhook_harness(webhook_max_body_bytes=1000)
    assert h.ctx.settings.webhook_max_body_bytes == 1000
    r = post_webhook(h.running.url, "/webhooks/alertmanager", b" " * 1001)
    assert r.status_code == 413 and "1000 bytes" in r.json()["error"]
    from bot.settings import Settings
    assert Settings().webhook_max_body_bytes == 5 * 1024 * 1024
    assert Settings().slack_max_body_bytes == 1024 * 1024


def test_webhook_cap_from_the_environment(monkeypatch):
    from bot.settings import Settings

    monkeypatch.setenv("FIREWATCH_WEBHOOK_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("FIREWATCH_SLACK_MAX_BODY_BYTES", "4096")
    assert (Settings().webhook_max_body_bytes, Settings().slack_max_body_bytes) == (2048, 4096)


def test_webhook_over_the_default_cap_gets_413(webhook_harness):
    h = webhook_harness()
    r = post_webhook(h.running.url, "/webhooks/grafana", b"[" * (5 * 1024 * 1024 + 1))
    assert r.status_code == 413


@pytest.mark.parametrize("path", WEBHOOKS)
@pytest.mark.parametrize("body,reason", [
    (b"[" * 20_000 + b"]" * 20_000, "nested"),
    (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested"),
    (b'{"status": "firing\\u0000"}', "NUL"),
    (b'{"status": "firing\x00"}', "NUL"),
    (b'{"st\\u0000atus": 1}', "NUL"),
    (b"\xff\xfe{}", "UTF-8"),
    (b"{not json", "JSON"),
], ids=["deep-array", "deep-object", "escaped-nul", "raw-nul", "nul-in-key", "not-utf8", "not-json"])
def test_hostile_json_gets_a_clear_400(webhook_harness, path, body, reason):
    h = webhook_harness()
    r = post_webhook(h.running.url, path, body)
    assert r.status_code == 400, r.text
    assert reason in r.json()["error"]


@pytest.mark.parametrize("mutate", [
    lambda p: p["alerts"][0].update(startsAt="9999-12-31T23:59:59Z", endsAt="9999-12-31T23:59:59Z"),
    lambda p: p["alerts"][0]["labels"].update(severity="²"),
    lambda p: p.update(truncatedAlerts=2**31),
    lambda p: p.update(truncatedAlerts=10**400),
    lambda p: p["alerts"][0].update(startsAt="0000-01-01T00:00:00Z"),
    lambda p: p["alerts"][0]["labels"].update(alertname="١٢"),
], ids=["year-9999", "superscript-severity", "int-2-31", "huge-int", "year-0", "arabic-digits"])
def test_odd_values_in_alerts_never_give_a_5xx(webhook_harness, mutate):
    h = webhook_harness()
    payload = json.loads(alertmanager_payload())
    mutate(payload)
    r = post_webhook(h.running.url, "/webhooks/alertmanager", json.dumps(payload).encode())
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.json()["error"]


@pytest.mark.parametrize("timestamp", ["9999-12-31T23:59:59Z", "²", "١٧٠٠٠٠٠٠٠٠", 2**31, 10**30])
def test_odd_change_event_timestamps_give_400_or_200(webhook_harness, timestamp):
    h = webhook_harness()
    event = {"service": "checkout", "version": "1.2.3", "author": "ana", "description": "deploy",
             "timestamp": timestamp, "url": "https://ci.example/1"}
    r = post_webhook(h.running.url, "/webhooks/changes", json.dumps(event).encode())
    assert r.status_code in (200, 400), r.text
