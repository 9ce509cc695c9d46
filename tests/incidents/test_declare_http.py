"""Declaring an incident through the real HTTP endpoint with signed requests, against the fake Slack."""

from __future__ import annotations

import threading
import time

from sqlmodel import select

from bot.incidents import service as incident_service
from storage.models import AuditLog, Incident, TimelineEvent
from tests.conftest import ANNOUNCE, REPORTER


def test_declare_acks_before_the_work_and_runs_every_slack_step(harness, monkeypatch):
    # Slack needs the ack within 3 seconds: it must not wait for the declare. The declare is held until the test
    # has the ack in hand; an ack that waited for it would only arrive when the hold timed out.
    acked, waited_out = threading.Event(), []
    real_declare = incident_service.declare

    def held_declare(*args, **kwargs):
        waited_out.append(not acked.wait(10))
        return real_declare(*args, **kwargs)

    monkeypatch.setattr(incident_service, "declare", held_declare)
    resp = harness.command("declare sev2 Checkout API returning 500s")
    acked.set()
    assert resp.status_code == 200
    assert "Declaring" in resp.json()["text"]

    fake = harness.fake
    fake.wait_for(lambda f: f.calls_to("pins.add"))
    harness.wait_response("declared")
    assert waited_out == [False]
    create = fake.calls_to("conversations.create")[0]
    assert create.params["name"] == "inc-1-checkout-api-returning-500s"
    channel = create.response["channel"]["id"]
    invite = fake.calls_to("conversations.invite")[0]
    assert invite.params == {"channel": channel, "users": REPORTER}
    posts = {c.params["channel"] for c in fake.calls_to("chat.postMessage")}
    assert {channel, ANNOUNCE} <= posts
    topic = fake.calls_to("conversations.setTopic")[0].params["topic"]
    assert topic.startswith("SEV2 · investigating")
    pin = fake.calls_to("pins.add")[0]
    summary_post = next(c for c in fake.calls_to("chat.postMessage") if c.params["channel"] == channel)
    assert pin.params == {"channel": channel, "timestamp": summary_post.response["ts"]}

    with harness.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
        assert (inc.number, inc.severity, inc.status, inc.channel_id) == (1, "sev2", "investigating", channel)
        assert inc.summary_pinned and inc.topic_set and inc.reporter_invited and inc.announcement_ts
        assert inc.created_at.tzinfo is not None
        kinds = [e.kind for e in s.exec(select(TimelineEvent))]
        assert kinds == ["declared"]
        assert s.exec(select(AuditLog).where(AuditLog.action == "declare")).first() is not None


def test_default_severity_and_name_taken(harness):
    harness.fake.add_channel("C0TAKEN", "inc-1-database-slow")
    harness.command("declare Database slow")
    harness.fake.wait_for(lambda f: f.calls_to("conversations.create"))
    attempts = harness.fake.attempts("conversations.create")
    assert [a.response.get("error") for a in attempts] == ["name_taken", None]
    assert attempts[1].params["name"] == "inc-1-database-slow-2"
    harness.wait_response("declared")
    with harness.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
        assert inc.severity == "sev3"
        assert inc.channel_name == "inc-1-database-slow-2"


def test_forged_and_stale_requests_are_rejected(harness):
    forged = harness.command("declare sev1 Forged", secret="not-the-secret")
    stale = harness.command("declare sev1 Stale", timestamp=int(time.time()) - 600)
    assert forged.status_code == 401
    assert stale.status_code == 401
    # Signatures are checked before anything is queued, so a genuine declare sent afterwards, once finished,
    # shows everything the forged ones could have started: only it ran.
    harness.declare("sev2 Genuine")
    assert [c.params["name"] for c in harness.fake.attempts("conversations.create")] == ["inc-1-genuine"]
    with harness.ctx.session() as s:
        assert [i.title for i in s.exec(select(Incident)).all()] == ["Genuine"]


def test_healthz(harness):
    import httpx

    r = httpx.get(harness.running.url + "/healthz")
    assert r.status_code == 200 and r.json()["database"] == "ok"
