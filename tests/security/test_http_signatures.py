"""Requests nobody signed: refused with 401 before any parsing, never logged, never acted on."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import httpx
import pytest
from slack_bolt import App

from bot.devtools.signed_requests import sign
from bot.server import build_context, start_in_thread
from bot.config import parse_config
from bot.slack.respond import is_slack_response_url
from bot.settings import Settings
from tests.conftest import BASE_CONFIG, REPORTER, SIGNING_SECRET, make_settings
from tests.security import slack_activity

MARKER = "ZZ-UNSIGNED-BODY-MARKER"


def hostile_command_body(response_url: str) -> str:
    # What an attacker would send: a command whose response_url and user they chose.
    return urlencode({"command": "/incident", "text": f"declare sev1 {MARKER}", "user_id": REPORTER,
                      "channel_id": "C0GENERAL", "response_url": response_url, "trigger_id": "1.2.3",
                      "team_id": "T0FIREWATCH"})


@pytest.mark.parametrize("headers", [
    {},
    {"X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "not-a-number", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "1" * 400, "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "١٧٠٠٠٠٠٠٠٠", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "²", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "-5", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "NOW", "X-Slack-Signature": "garbage"},
    {"X-Slack-Request-Timestamp": "NOW", "X-Slack-Signature": "v1=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "NOW", "X-Slack-Signature": "v0=" + "0" * 64},
], ids=["no-headers", "no-timestamp", "non-numeric-timestamp", "oversized-timestamp", "arabic-digits",
        "superscript-digit", "negative-timestamp", "malformed-signature", "wrong-version", "wrong-signature"])
def test_unsigned_requests_get_401_and_nothing_is_acted_on_or_logged(harness, caplog, headers):
    h = harness
    body = hostile_command_body(h.fake_server.response_url("attacker"))
    # Non-ASCII header values go on the wire as UTF-8 bytes, as a hostile client would send them.
    headers = {k: (str(int(time.time())) if v == "NOW" else v).encode() for k, v in headers.items()}
    before = slack_activity(h.fake)
    with caplog.at_level(logging.DEBUG):
        r = httpx.post(h.sender.events_url, content=body.encode(), timeout=10,
                       headers={"Content-Type": "application/x-www-form-urlencoded", **headers})
    assert r.status_code == 401
    assert MARKER not in r.text
    assert slack_activity(h.fake) == before  # no Web API call, no response_url post
    assert MARKER not in caplog.text
    with h.ctx.session() as s:
        from storage.models import Incident
        from sqlmodel import select
        assert s.exec(select(Incident)).all() == []


def test_stale_and_wrong_secret_signatures_are_refused(harness):
    h = harness
    body = hostile_command_body(h.fake_server.response_url("attacker"))
    before = slack_activity(h.fake)
    stale = h.sender.post(body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 301)
    wrong = h.sender.post(body, "application/x-www-form-urlencoded", secret="not-the-secret")
    assert (stale.status_code, wrong.status_code) == (401, 401)
    assert slack_activity(h.fake) == before


def test_a_correctly_signed_request_still_works(harness):
    r = harness.command("help")
    assert r.status_code == 200 and "/incident" in r.json()["text"]


def test_huge_unsigned_body_is_not_logged(harness, caplog):
    h = harness
    body = "text=" + MARKER * 20000  # ~460 KB, under the cap: refused for its signature, not its size
    with caplog.at_level(logging.DEBUG):
        r = httpx.post(h.sender.events_url, content=body.encode(), timeout=10,
                       headers={"Content-Type": "application/x-www-form-urlencoded",
                                "X-Slack-Request-Timestamp": str(int(time.time())),
                                "X-Slack-Signature": "v0=" + "1" * 64})
    assert r.status_code == 401
    assert MARKER not in caplog.text
    assert len(caplog.text) < 10_000


def test_response_url_hosts_that_are_slacks_own(harness):
    settings = harness.ctx.settings
    api_base = settings.normalized_slack_api_url.rsplit("/api/", 1)[0]
    assert is_slack_response_url("https://hooks.slack.com/commands/T1/2/abc", settings)
    assert is_slack_response_url(api_base + "/response/cmd", settings)
    for url in ("http://hooks.slack.com/commands/x", "https://hooks.slack.com.evil.example/x",
                "https://evil.example/hooks.slack.com", "https://user@evil.example/", "http://169.254.169.254/",
                api_base.replace("127.0.0.1", "localhost") + "/response/cmd", "https://hooks.slack.com:8443/x",
                "http://[::1/", "", "javascript:alert(1)"):
        assert not is_slack_response_url(url, settings), url


@pytest.fixture
def failing_command_server(database_url, fake_slack):
    """Firewatch with an extra `/boom` command whose listener raises after its ack."""

    def register(app: App, _ctx, _once):
        @app.command("/boom")
        def boom(ack):
            ack()
            raise RuntimeError("listener exploded")

    settings = make_settings(database_url, fake_slack.api_url)
    ctx = build_context(settings, parse_config(BASE_CONFIG))
    ctx.services.listeners.append(register)
    running = start_in_thread(ctx)
    yield running
    running.stop()


def test_error_handler_never_posts_to_a_foreign_response_url(failing_command_server, fake_slack, caplog):
    from bot.devtools.signed_requests import SlackSender

    fake = fake_slack.fake
    # Same machine, different host name: not the configured Slack host, so it must not be called.
    foreign = fake_slack.response_url("foreign").replace("127.0.0.1", "localhost")
    sender = SlackSender(failing_command_server.url, SIGNING_SECRET, response_url=foreign)
    try:
        with caplog.at_level(logging.ERROR):
            r = sender.command("/boom", "now", user=REPORTER)
        assert r.status_code == 200
        ephemeral = fake.wait_for(lambda f: f.calls_to("chat.postEphemeral"))
    finally:
        sender.close()
    assert "something went wrong" in ephemeral[0].params["text"]
    assert ephemeral[0].params["user"] == REPORTER
    assert not [r for r in fake.responses if r["path"].endswith("/foreign")]


def test_error_handler_replies_through_slacks_response_url(failing_command_server, fake_slack):
    from bot.devtools.signed_requests import SlackSender

    sender = SlackSender(failing_command_server.url, SIGNING_SECRET, response_url=fake_slack.response_url("ok"))
    try:
        assert sender.command("/boom", "now", user=REPORTER).status_code == 200
        reply = fake_slack.fake.wait_for(
            lambda f: next((x for x in f.responses if x["path"].endswith("/ok")), None))
    finally:
        sender.close()
    assert "something went wrong" in reply["text"] and reply["response_type"] == "ephemeral"


@pytest.mark.parametrize("timestamp", ["١٧٠٠٠٠٠٠٠٠", "²", "1e9", " 1700000000", "1700000000\n", "0x10", ""])
def test_timestamps_that_are_not_ascii_digits_are_malformed(timestamp):
    from bot.http.slack_signature import signature_problem

    headers = {"x-slack-request-timestamp": timestamp, "x-slack-signature": sign(SIGNING_SECRET, timestamp, "")}
    assert signature_problem(headers, b"", SIGNING_SECRET) == "malformed X-Slack-Request-Timestamp"


def test_signature_check_uses_the_injected_clock():
    from bot.http.slack_signature import signature_problem

    headers = {"x-slack-request-timestamp": "1000", "x-slack-signature": sign(SIGNING_SECRET, "1000", "a=b")}
    assert signature_problem(headers, b"a=b", SIGNING_SECRET, clock=lambda: 1299.0) is None
    assert signature_problem(headers, b"a=b", SIGNING_SECRET, clock=lambda: 1301.0) == "stale X-Slack-Request-Timestamp"
    assert signature_problem(headers, b"a=c", SIGNING_SECRET, clock=lambda: 1000.0) == "invalid Slack signature"
