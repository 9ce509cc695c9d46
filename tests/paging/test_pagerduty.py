"""PagerDuty Events API v2 client, against the documented request/response examples (mocked with respx)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest
import respx

from bot.paging.domain.alerts import parse_webhook
from bot.paging.domain.config import PagerDutyMirrorConfig
from bot.paging.pagerduty import (
    PagerDutyClient,
    page_dedup_key,
    pd_severity,
    routing_key_from_env,
    trigger_fields_for_alert,
)
from tests.paging.payloads import load_json, load_text

URL = "https://events.pagerduty.com/v2/enqueue"
REFERENCE = load_json("pagerduty_enqueue_trigger.json")
ROUTING_KEY = REFERENCE["routing_key"]  # the documented 32-character example key
OK_202 = load_json("pagerduty_enqueue_202_response.json")
BAD_400 = load_json("pagerduty_enqueue_400_response.json")


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(sleeps):
    with httpx.Client() as http:
        yield PagerDutyClient(ROUTING_KEY, client=http, sleep=sleeps.append, backoff=0.5, max_attempts=3)


@pytest.fixture
def mock():
    with respx.mock(assert_all_called=False) as router:
        yield router


def _body(call) -> dict:
    return json.loads(call.request.content)


def test_trigger_body_matches_documented_shape(client, mock):
    route = mock.post(URL).mock(return_value=httpx.Response(202, json=OK_202))
    ref = REFERENCE["payload"]
    result = client.trigger(
        "42",
        ref["summary"],
        severity=ref["severity"],
        source=ref["source"],
        component=ref["component"],
        group=ref["group"],
        event_class=ref["class"],
        timestamp=datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=timezone.utc),
        custom_details=ref["custom_details"],
        links=[(REFERENCE["links"][0]["text"], REFERENCE["links"][0]["href"]), ("bad", "javascript:alert(1)")],
    )
    assert route.called and route.call_count == 1
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/json"
    body = _body(route.calls.last)
    # Same top-level keys as the documented example, minus images (we send none) and client_url (not set).
    assert set(body) == set(REFERENCE) - {"images", "client_url"}
    assert body["routing_key"] == ROUTING_KEY
    assert body["event_action"] == "trigger"
    assert body["dedup_key"] == "firewatch-page-42"
    assert body["client"] == "Firewatch"
    assert body["links"] == REFERENCE["links"]  # the javascript: link was dropped
    payload = body["payload"]
    assert set(payload) == set(ref)
    for key in ("summary", "severity", "source", "component", "group", "class", "custom_details"):
        assert payload[key] == ref[key], key
    assert payload["timestamp"] == "2015-07-17T08:42:58.315000+00:00"
    # The 202 example is parsed.
    assert result.ok and result.status == 202
    assert result.message == "Event processed"
    assert result.dedup_key == "srv01/HTTP"  # what PagerDuty says it used
    assert result.attempts == 1


def test_summary_truncated_and_severity_mapped(client, mock):
    route = mock.post(URL).mock(return_value=httpx.Response(202, json=OK_202))
    client.trigger("7", "x" * 5000, severity="sev2", source="")
    payload = _body(route.calls.last)["payload"]
    assert len(payload["summary"]) == 1024 and payload["summary"].endswith("…")
    assert payload["severity"] == "error"
    assert payload["source"] == "firewatch"


def test_acknowledge_and_resolve_bodies(client, mock):
    route = mock.post(URL).mock(return_value=httpx.Response(202, json=OK_202))
    assert client.acknowledge("42").ok
    assert client.resolve(42).ok
    bodies = [_body(c) for c in route.calls]
    assert bodies == [
        {"routing_key": ROUTING_KEY, "event_action": "acknowledge", "dedup_key": "firewatch-page-42"},
        {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": "firewatch-page-42"},
    ]


def test_400_reports_message_and_is_not_retried(client, mock, sleeps):
    route = mock.post(URL).mock(return_value=httpx.Response(400, json=BAD_400))
    result = client.trigger("42", "disk full")
    assert route.call_count == 1
    assert sleeps == []
    assert not result.ok and result.status == 400
    assert result.message == "Event object is invalid: Length of 'routing_key' is incorrect (should be 32 characters)"
    assert result.dedup_key == "firewatch-page-42"


def test_429_then_202_is_retried(client, mock, sleeps):
    route = mock.post(URL).mock(
        side_effect=[httpx.Response(429, json={"status": "throttled", "message": "Rate limited"}), httpx.Response(202, json=OK_202)]
    )
    result = client.trigger("42", "disk full")
    assert route.call_count == 2
    assert _body(route.calls[0]) == _body(route.calls[1])  # same dedup key, so no duplicate alert
    assert result.ok and result.status == 202 and result.attempts == 2
    assert result.errors == ("HTTP 429: Rate limited",)
    assert sleeps == [0.5]


def test_retry_after_header_respected_within_cap(client, mock, sleeps):
    mock.post(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(202, json=OK_202)])
    assert client.trigger("42", "disk full").ok
    assert sleeps == [3.0]


def test_5xx_retried_with_backoff_then_gives_up(client, mock, sleeps):
    route = mock.post(URL).mock(return_value=httpx.Response(503, text="<html>Service Unavailable</html>"))
    result = client.resolve("42")
    assert route.call_count == 3
    assert sleeps == [0.5, 1.0]  # exponential; no sleep after the last attempt
    assert not result.ok and result.status == 503 and result.attempts == 3
    assert result.message == "gave up after 3 attempts; last: HTTP 503: <html>Service Unavailable</html>"


def test_network_error_returns_result_not_exception(client, mock, sleeps):
    route = mock.post(URL).mock(side_effect=httpx.ConnectError("connection refused"))
    result = client.trigger("42", "disk full")
    assert route.call_count == 3
    assert not result.ok and result.status is None
    assert "network error: ConnectError: connection refused" in result.message
    assert len(sleeps) == 2


def test_network_error_then_success(client, mock):
    mock.post(URL).mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(202, json=OK_202)])
    result = client.acknowledge("42")
    assert result.ok and result.attempts == 2


def test_unexpected_exception_is_contained(mock):
    class Broken(httpx.Client):
        def post(self, *a, **kw):
            raise RuntimeError("boom")

    with Broken() as http:
        result = PagerDutyClient(ROUTING_KEY, client=http, sleep=lambda s: None).trigger("1", "x")
    assert not result.ok and result.message == "unexpected error: RuntimeError: boom"


def test_base_url_configurable(mock, sleeps):
    route = mock.post("http://pd.test/v2/enqueue").mock(return_value=httpx.Response(202, json=OK_202))
    with httpx.Client() as http:
        result = PagerDutyClient(ROUTING_KEY, client=http, base_url="http://pd.test/", sleep=sleeps.append).resolve("5")
    assert route.called and result.ok


def test_missing_routing_key_sends_nothing(mock):
    route = mock.post(URL).mock(return_value=httpx.Response(202, json=OK_202))
    with httpx.Client() as http:
        result = PagerDutyClient("", client=http).trigger("1", "x")
    assert not route.called
    assert not result.ok and result.message == "no PagerDuty routing key configured"


def test_routing_key_never_in_repr():
    with PagerDutyClient(ROUTING_KEY) as client:  # owns (and closes) its own httpx.Client
        assert ROUTING_KEY not in repr(client)


def test_routing_key_from_env():
    cfg = PagerDutyMirrorConfig(routing_key_env="PD_KEY")
    assert routing_key_from_env(cfg, {"PD_KEY": " abc "}) == "abc"
    assert routing_key_from_env(cfg, {"PD_KEY": ""}) is None
    assert routing_key_from_env(cfg, {}) is None
    assert routing_key_from_env(None, {"PD_KEY": "abc"}) is None


def test_helpers():
    assert page_dedup_key(17) == "firewatch-page-17"
    assert [pd_severity(s) for s in ("sev1", "sev2", "sev3", "sev4", None, "warning")] == [
        "critical", "error", "warning", "info", "info", "warning"
    ]


def test_trigger_from_grafana_alert(client, mock):
    route = mock.post(URL).mock(return_value=httpx.Response(202, json=OK_202))
    alert = parse_webhook(load_text("grafana_webhook_firing.json")).alerts[0]
    assert client.trigger("9", severity="sev1", **trigger_fields_for_alert(alert)).ok
    body = _body(route.calls.last)
    assert body["payload"]["summary"] == "[FIRING] High memory usage: This alert was triggered for zone us-1"
    assert body["payload"]["source"] == "grafana"
    assert body["payload"]["group"] == "blue"
    assert body["payload"]["class"] == "High memory usage"
    assert body["payload"]["custom_details"]["labels"]["zone"] == "us-1"
    assert body["payload"]["timestamp"] == "2021-10-12T09:51:03.157076+02:00"
    assert body["links"] == [
        {"href": "https://myrunbook.com/runbook/1234", "text": "Runbook"},
        {"href": "https://play.grafana.org/alerting/1afz29v7z/edit", "text": "Source"},
    ]
