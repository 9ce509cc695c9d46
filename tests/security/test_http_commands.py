"""Slash commands at the edge: any text parses as a command (the "payload" bug), replays run once, NUL bytes and
other unusable input get an ephemeral usage message, never a 5xx."""

from __future__ import annotations

import hashlib
import logging
import hmac
import threading
import time
from urllib.parse import urlencode

import pytest
from slack_bolt import App
from sqlmodel import select

from bot.config import parse_config
from bot.devtools.fake_slack import TEAM_ID
from bot.devtools.signed_requests import SlackSender
from bot.server import build_context, start_in_thread
from bot.web import SLOW_REPLY_TEXT
from storage.models import Incident
from tests.conftest import BASE_CONFIG, REPORTER, SIGNING_SECRET, make_settings


def incidents(h) -> list[Incident]:
    with h.ctx.session() as s:
        return list(s.exec(select(Incident)))


def test_a_title_containing_payload_declares_an_incident(harness):
    h = harness
    h.declare("sev2 Webhook payload rejected")
    [incident] = incidents(h)
    assert incident.title == "Webhook payload rejected" and incident.severity == "sev2"


def test_payload_as_a_whole_word_in_other_fields_is_still_a_command(harness):
    h = harness
    r = h.command("declare sev3 payload=%7B%22type%22%3A%22block_actions%22%7D payload")
    assert r.status_code == 200 and "Declaring" in r.json()["text"]
    h.wait_response("declared")
    assert incidents(h)[0].title.startswith("payload=")


def command_body(h, text: str) -> str:
    return urlencode({"token": "x", "team_id": TEAM_ID, "channel_id": "C0GENERAL", "user_id": REPORTER,
                      "command": "/incident", "text": text, "response_url": h.sender.response_url,
                      "trigger_id": "77.88.replayed"})


def test_identical_signed_command_replayed_in_the_window_declares_once(harness):
    h = harness
    body = command_body(h, "declare sev2 Replayed outage")
    ts = int(time.time())
    first = h.sender.post(body, "application/x-www-form-urlencoded", timestamp=ts)
    assert first.status_code == 200 and "Declaring" in first.json()["text"]
    h.wait_response("declared")
    replays = [h.sender.post(body, "application/x-www-form-urlencoded", timestamp=ts) for _ in range(3)]
    assert [r.status_code for r in replays] == [200, 200, 200]
    assert all("already received" in r.json()["text"] for r in replays)
    assert [i.title for i in incidents(h)] == ["Replayed outage"]
    assert len(h.fake.calls_to("conversations.create")) == 1


def test_the_same_text_sent_again_by_slack_is_a_new_command(harness):
    # Slack gives each invocation its own trigger_id and timestamp: only byte-identical requests are replays.
    h = harness
    h.declare("sev3 First of two")
    h.declare("sev3 First of two")
    assert [i.number for i in incidents(h)] == [1, 2]


def test_nul_byte_in_command_text_gets_a_usage_message(harness):
    h = harness
    r = h.command("declare sev2 bad\x00title")
    assert r.status_code == 200
    assert r.json()["response_type"] == "ephemeral" and "NUL" in r.json()["text"]
    assert incidents(h) == []


def test_body_that_is_not_utf8_is_refused(harness):
    h = harness
    raw = b"command=%2Fincident&text=\xff\xfe"
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(h.sender.secret.encode(), b"v0:" + ts.encode() + b":" + raw,
                                 hashlib.sha256).hexdigest()
    r = h.sender.http.post(h.sender.events_url, content=raw, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature})
    assert r.status_code == 400 and "UTF-8" in r.json()["error"]


def test_hostile_interaction_shapes_get_400_not_500(harness):
    h = harness
    for payload in ({"type": 5}, {"type": "block_actions", "actions": "x"}, {"type": "block_actions", "user": []},
                    {"type": "view_submission", "view": "v"}):
        r = h.sender.interaction(payload)
        assert r.status_code == 400, (payload, r.text)
    deep = {"type": "block_actions"}
    node = deep
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    r = h.sender.interaction(deep)
    assert r.status_code == 400 and "nested" in r.json()["error"]


@pytest.fixture
def slow_command_server(database_url, fake_slack):
    """Firewatch with a `/slow` command that cannot ack until the test lets it (a listener stuck on something)."""
    release = threading.Event()

    def register(app: App, _ctx, _once):
        @app.command("/slow")
        def slow(ack, respond):
            release.wait(30)
            ack()
            respond(text="slow result", response_type="ephemeral")

    ctx = build_context(make_settings(database_url, fake_slack.api_url), parse_config(BASE_CONFIG))
    ctx.services.listeners.append(register)
    running = start_in_thread(ctx)
    yield running, release
    release.set()
    running.stop()


def test_a_listener_slow_to_ack_gets_an_answer_instead_of_unhandled_request(slow_command_server, fake_slack):
    running, release = slow_command_server
    sender = SlackSender(running.url, SIGNING_SECRET, response_url=fake_slack.response_url("slow"))
    try:
        r = sender.command("/slow", "", user=REPORTER)
        release.set()
        assert r.status_code == 200
        assert r.json() == {"response_type": "ephemeral", "text": SLOW_REPLY_TEXT}
        # The listener still finishes, and its reply reaches the person.
        late = fake_slack.fake.wait_for(lambda f: next((x for x in f.responses if x["path"].endswith("/slow")), None))
    finally:
        sender.close()
    assert late["text"] == "slow result"


@pytest.mark.parametrize("command,text", [
    ("/incident", "repair 99999999999"),
    ("/incident", "repair -1"),
    ("/incident", "sev sev²"),
    ("/incident", "declare sev2 " + "x" * 5000),
    ("/oncall", "explain 9999-12-31"),
    ("/oncall", "schedule 99999999999"),
    ("/oncall", "schedule ١٢"),
    ("/oncall", "who 9999-12-31"),
    ("/incident", "repair ²"),
])
def test_hostile_numbers_and_dates_get_a_reply_not_a_crash(harness, caplog, command, text):
    h = harness
    before = len(h.responses())
    with caplog.at_level(logging.INFO):
        r = h.sender.command(command, text, user=REPORTER)
        assert r.status_code == 200
        replied = bool(r.content and r.json().get("text"))
        if not replied:  # acked empty: the answer comes through the response_url
            h.fake.wait_for(lambda f: len(f.responses) > before)
    tracebacks = [rec for rec in caplog.records if rec.exc_info]
    assert tracebacks == []
    texts = [r.json().get("text", "")] if replied else [x.get("text", "") for x in h.responses()[before:]]
    assert not any("something went wrong" in t for t in texts), texts


@pytest.mark.parametrize("action_id,value", [
    ("page_ack", "99999999999"), ("page_escalate", "-1"), ("assist_accept", "x"), ("oncall_swap_approve", ""),
    ("page_ack", "²"), ("assist_dismiss", "²"),
])
def test_hostile_button_values_get_no_crash(harness, caplog, action_id, value):
    h = harness
    with caplog.at_level(logging.INFO):
        r = h.sender.block_action(action_id, value, user=REPORTER, channel="C0GENERAL", message_ts="1.2")
        assert r.status_code == 200
        h.fake.wait_for(lambda f: f.responses or f.calls_to("chat.postEphemeral"), timeout=5)
    assert [rec.getMessage() for rec in caplog.records if rec.exc_info] == []
