"""The edge while the database is unreachable (issue 17): webhooks 503 + Retry-After, commands and buttons an
ephemeral "can't reach its database", `/readyz` unready; all of it back once the database is."""

from __future__ import annotations

import json

import httpx
import pytest
from slack_bolt import App
from sqlalchemy.exc import OperationalError

from bot.config import parse_config
from bot.devtools.signed_requests import SlackSender
from bot.http.database import DATABASE_UNAVAILABLE_TEXT, is_database_unavailable
from bot.server import build_context, start_in_thread
from storage.db import make_engine
from tests.conftest import BASE_CONFIG, REPORTER, SIGNING_SECRET, make_settings
from tests.security import WEBHOOK_TOKEN, alertmanager_payload, closed_port, post_webhook


@pytest.fixture
def outage(harness_factory, monkeypatch):
    """A running Firewatch and a switch that points it at a database nobody answers for (a closed loopback
    port: connections are refused at once), and back."""
    monkeypatch.setenv("FIREWATCH_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    h = harness_factory(BASE_CONFIG)
    real = h.ctx.engine
    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/firewatch")

    class Switch:
        harness = h

        def database_down(self):
            h.ctx.engine = dead

        def database_back(self):
            h.ctx.engine = real

    yield Switch()
    h.ctx.engine = real
    dead.dispose()


def test_readyz_follows_the_database_and_healthz_keeps_its_meaning(outage):
    h = outage.harness
    assert httpx.get(h.running.url + "/readyz").status_code == 200
    body = httpx.get(h.running.url + "/readyz").json()
    assert body["ready"] is True and body["database"] == "ok"
    outage.database_down()
    down = httpx.get(h.running.url + "/readyz")
    assert down.status_code == 503 and down.json()["ready"] is False
    health = httpx.get(h.running.url + "/healthz")
    assert health.status_code == 503 and health.json()["database"] == "unreachable"
    outage.database_back()
    assert httpx.get(h.running.url + "/readyz").status_code == 200
    assert httpx.get(h.running.url + "/healthz").json()["ok"] is True


@pytest.mark.parametrize("path,body", [
    ("/webhooks/alertmanager", alertmanager_payload()),
    ("/webhooks/changes", json.dumps({"service": "api", "version": "1", "author": "a", "description": "d",
                                      "timestamp": "2026-01-01T00:00:00Z", "url": "https://ci.example/1"}).encode()),
])
def test_webhooks_answer_503_with_retry_after(outage, path, body):
    h = outage.harness
    outage.database_down()
    r = post_webhook(h.running.url, path, body)
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) > 0
    assert "database" in r.json()["error"]
    outage.database_back()
    again = post_webhook(h.running.url, path, body)
    assert again.status_code == 200, again.text


def test_slash_commands_get_the_database_message_not_unhandled_request(outage):
    h = outage.harness
    outage.database_down()
    for text in ("declare sev2 Database is down", "list", "status resolved"):
        r = h.command(text)
        assert r.status_code == 200
        assert r.json() == {"response_type": "ephemeral", "text": f":warning: {DATABASE_UNAVAILABLE_TEXT}"}
    outage.database_back()
    h.declare("sev2 After the outage")  # resumes without a restart


def test_buttons_get_the_database_message_through_response_url(outage):
    h = outage.harness
    outage.database_down()
    r = h.sender.block_action("page_ack", "1", user=REPORTER, channel="C0GENERAL", message_ts="1.2")
    assert r.status_code == 200
    reply = h.wait_response("can't reach its database")
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False


def test_modal_submissions_show_the_database_message_on_the_form(outage):
    h = outage.harness
    outage.database_down()
    r = h.sender.view_submission("declare_incident", {"title": {"title": {"type": "plain_text_input",
                                                                          "value": "x"}}}, user=REPORTER)
    assert r.status_code == 200
    assert r.json() == {"response_action": "errors", "errors": {"title": DATABASE_UNAVAILABLE_TEXT}}


def test_events_api_deliveries_get_503_so_slack_retries(outage):
    h = outage.harness
    outage.database_down()
    r = h.sender.event({"type": "reaction_added", "user": REPORTER, "reaction": "pushpin",
                        "item": {"type": "message", "channel": "C0GENERAL", "ts": "1.2"}})
    assert r.status_code == 503 and "Retry-After" in r.headers


@pytest.fixture
def database_fails_inside_a_listener(database_url, fake_slack):
    """The database going away between the edge's check and a listener's query."""

    def register(app: App, _ctx, _once):
        @app.command("/dbgone")
        def dbgone(ack):
            ack()
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    ctx = build_context(make_settings(database_url, fake_slack.api_url), parse_config(BASE_CONFIG))
    ctx.services.listeners.append(register)
    running = start_in_thread(ctx)
    yield running
    running.stop()


def test_a_listener_losing_the_database_tells_the_user_so(database_fails_inside_a_listener, fake_slack):
    sender = SlackSender(database_fails_inside_a_listener.url, SIGNING_SECRET,
                         response_url=fake_slack.response_url("db"))
    try:
        assert sender.command("/dbgone", "", user=REPORTER).status_code == 200
        reply = fake_slack.fake.wait_for(lambda f: next((x for x in f.responses if x["path"].endswith("/db")), None))
    finally:
        sender.close()
    assert DATABASE_UNAVAILABLE_TEXT in reply["text"] and "something went wrong" not in reply["text"]


def test_what_counts_as_the_database_being_unavailable():
    refused = OperationalError("SELECT 1", {}, ConnectionRefusedError())
    assert is_database_unavailable(refused)
    try:
        try:
            raise refused
        except OperationalError as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert is_database_unavailable(wrapped)
    assert not is_database_unavailable(ValueError("bad input"))
