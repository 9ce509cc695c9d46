"""The declare modal, the :pushpin: timeline, duplicate deliveries, partial-failure repair and Slack retries."""

from __future__ import annotations

import json
import threading

from sqlmodel import select

from bot.incidents import service as incident_service, store as incident_store
from storage.models import Incident, ProcessedEvent, TimelineEvent
from tests.conftest import ALICE, REPORTER


class Outcomes:
    """Wraps a function and records each call's result, so a test can wait until N calls have *finished*
    (instead of sleeping and hoping nothing else arrives later)."""

    def __init__(self, monkeypatch, owner, name: str, keep=lambda args: True):
        self.results: list = []
        self._done = threading.Condition()
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):
            result = real(*args, **kwargs)
            if keep(args):
                with self._done:
                    self.results.append(result)
                    self._done.notify_all()
            return result

        monkeypatch.setattr(owner, name, wrapper)

    def wait(self, count: int, timeout: float = 10.0) -> list:
        with self._done:
            assert self._done.wait_for(lambda: len(self.results) >= count, timeout), self.results
            return list(self.results)


def test_declare_without_text_opens_modal_and_submission_declares(harness):
    h = harness
    r = h.command("declare", trigger_id="9999.1.trigger")
    assert r.status_code == 200
    opened = h.fake.wait_for(lambda f: f.calls_to("views.open"))
    view = opened[0].params["view"]
    assert opened[0].params["trigger_id"] == "9999.1.trigger"
    assert view["callback_id"] == "incident_declare"
    assert {b["block_id"] for b in view["blocks"]} == {"title", "severity", "description", "private"}

    values = {
        "title": {"value": {"type": "plain_text_input", "value": "Login failures in EU"}},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "sev1"}}},
        "description": {"value": {"type": "plain_text_input", "value": "Many 401s since 09:00"}},
        "private": {"value": {"type": "checkboxes", "selected_options": [{"value": "private"}]}},
    }
    r = h.sender.view_submission("incident_declare", values, user=REPORTER)
    assert r.status_code == 200
    create = h.fake.wait_for(lambda f: f.calls_to("conversations.create"))[0]
    assert create.params["name"] == "inc-1-login-failures-in-eu"
    assert str(create.params["is_private"]).lower() in ("true", "1")
    h.fake.wait_for(lambda f: f.calls_to("pins.add"))
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
    assert (inc.severity, inc.private, inc.description) == ("sev1", True, "Many 401s since 09:00")


def test_modal_validation_errors_are_inline(harness):
    values = {"title": {"value": {"type": "plain_text_input", "value": "  "}},
              "severity": {"value": {"type": "static_select", "selected_option": {"value": "sev2"}}}}
    r = harness.sender.view_submission("incident_declare", values, user=REPORTER)
    assert r.status_code == 200
    assert r.json() == {"response_action": "errors", "errors": {"title": "A title is needed."}}


def test_pushpin_reaction_adds_message_once_even_with_retries(harness, monkeypatch):
    h = harness
    channel = h.declare()
    claims = Outcomes(monkeypatch, incident_store, "claim_event", keep=lambda a: str(a[1]).startswith("Ev0PIN"))
    reactions = Outcomes(monkeypatch, incident_service, "timeline_reaction")
    ts = h.fake.post_user_message(channel, ALICE, "p99 latency back under 300ms after the rollback")
    event = {"type": "reaction_added", "user": ALICE, "reaction": "pushpin",
             "item": {"type": "message", "channel": channel, "ts": ts}, "item_user": ALICE, "event_ts": ts}
    for retry in (None, 1, 2):
        r = h.sender.event(event, event_id="Ev0PIN0001", retry_num=retry)
        assert r.status_code == 200
    # Another person pins the same message (a new event id): still one entry.
    assert h.sender.event(event, event_id="Ev0PIN0002").status_code == 200

    # All four deliveries decided: exactly the two distinct event ids reach the listener, and both have run.
    assert sorted(claims.wait(4)) == [False, False, True, True]
    assert sorted(reactions.wait(2)) == ["added", "already"]

    def entries():
        with h.ctx.session() as s:
            return s.exec(select(TimelineEvent).where(TimelineEvent.kind == "message")).all()

    # Feedback: the message gets one check mark, nothing is posted in its thread.
    assert [c.params for c in h.fake.calls_to("reactions.add")] == [
        {"channel": channel, "timestamp": ts, "name": "white_check_mark"}]
    assert not [c for c in h.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]
    rows = entries()
    assert len(rows) == 1
    assert rows[0].text == "p99 latency back under 300ms after the rollback"
    assert rows[0].actor_id == ALICE and rows[0].source_ts == ts
    assert abs(rows[0].at.timestamp() - float(ts)) < 0.001
    assert rows[0].permalink.endswith(ts.replace(".", ""))
    with h.ctx.session() as s:
        # Slash commands are recorded there too (replay protection, keyed `slack-cmd:`); only events count here.
        events = {e.event_id for e in s.exec(select(ProcessedEvent)) if not e.event_id.startswith("slack-cmd:")}
        assert events == {"Ev0PIN0001", "Ev0PIN0002"}


def test_other_reactions_and_channels_are_ignored(harness, monkeypatch):
    h = harness
    channel = h.declare()
    reactions = Outcomes(monkeypatch, incident_service, "timeline_reaction")
    ts = h.fake.post_user_message(channel, ALICE, "lol")
    h.sender.event({"type": "reaction_added", "user": ALICE, "reaction": "joy",
                    "item": {"type": "message", "channel": channel, "ts": ts}})
    ts2 = h.fake.post_user_message("C0GENERAL", ALICE, "unrelated")
    h.sender.event({"type": "reaction_added", "user": ALICE, "reaction": "pushpin",
                    "item": {"type": "message", "channel": "C0GENERAL", "ts": ts2}})
    assert reactions.wait(2) == ["ignored", "ignored"]  # both handled to the end
    with h.ctx.session() as s:
        assert s.exec(select(TimelineEvent).where(TimelineEvent.kind == "message")).all() == []
    assert h.fake.calls_to("reactions.add") == []


def test_pushpin_without_reactions_scope_replies_in_thread(harness, monkeypatch):
    h = harness
    channel = h.declare()
    h.fake.fail("reactions.add", error="missing_scope")
    reactions = Outcomes(monkeypatch, incident_service, "timeline_reaction")
    ts = h.fake.post_user_message(channel, ALICE, "DB failover finished")
    h.sender.event({"type": "reaction_added", "user": ALICE, "reaction": "pushpin",
                    "item": {"type": "message", "channel": channel, "ts": ts}})
    assert reactions.wait(1) == ["added"]
    replies = [c for c in h.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]
    assert len(replies) == 1 and "Added to the incident timeline" in replies[0].params["text"]


def test_failed_pin_keeps_record_and_repair_finishes(harness):
    h = harness
    h.fake.fail("pins.add", error="internal_error")
    h.command("declare sev2 Queue backlog growing")
    r = h.wait_response("repair")
    assert "INC-1 is recorded" in r["text"] and "pin: internal_error" in r["text"]
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
    assert inc.channel_id and inc.summary_ts and not inc.summary_pinned
    assert inc.setup_error == "pin: internal_error"
    assert inc.announcement_ts is None  # later steps wait for the repair, in order

    h.command("repair 1")
    h.wait_response("Repaired pin, announcement")
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
    assert inc.summary_pinned and inc.announcement_ts and inc.setup_error is None
    assert len(h.fake.calls_to("conversations.create")) == 1  # the channel was not created twice


def test_channel_creation_failure_leaves_a_record_and_repair_creates_it(harness):
    h = harness
    h.fake.fail("conversations.create", error="restricted_action")
    h.command("declare sev1 DNS failures")
    h.wait_response("recorded")
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
    assert inc.channel_id is None and inc.setup_error == "channel: restricted_action"
    h.command("repair 1")
    h.wait_response("Repaired channel")
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
    assert inc.channel_id and inc.summary_pinned


def test_rate_limited_and_server_errors_are_retried(harness):
    h = harness
    h.fake.fail("conversations.create", status=429, retry_after=1)
    h.fake.fail("chat.postMessage", status=503)
    h.command("declare sev2 Retry me")
    h.fake.wait_for(lambda f: f.calls_to("pins.add"), timeout=15)
    created = h.fake.attempts("conversations.create")
    assert [c.status for c in created] == [429, 200]
    assert created[1].at - created[0].at >= 0.9  # Retry-After was honoured
    posts = h.fake.attempts("chat.postMessage")
    assert posts[0].status == 503 and posts[1].status == 200
    h.wait_response("declared")


def test_url_verification_challenge(harness):
    body = json.dumps({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    r = harness.sender.post(body, "application/json")
    assert r.status_code == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in r.text


def test_the_periodic_sweep_repairs_without_anyone_asking(harness):
    """After a Slack outage at declare time, the scheduler's sweep finishes the set-up by itself."""
    from bot import jobs

    h = harness
    h.fake.fail("conversations.create", status=503, times=3)  # the SDK's own retries run out too
    h.command("declare sev2 Slack was down when this was declared")
    h.wait_response("recorded")
    with h.ctx.session() as s:
        assert s.exec(select(Incident)).one().channel_id is None
    assert "firewatch:sweep" in h.ctx.services.scheduler.job_ids()
    jobs.sweep()  # what the scheduler runs every two minutes
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
    assert inc.channel_id and inc.summary_pinned and inc.announcement_ts and inc.setup_error is None


def test_private_by_default_makes_quick_declares_private_and_ticks_the_form(harness_factory):
    from tests.conftest import BASE_CONFIG

    h = harness_factory({**BASE_CONFIG, "incidents": {**BASE_CONFIG["incidents"], "private_by_default": True}})
    h.command("declare sev2 Suspicious logins")
    create = h.fake.wait_for(lambda f: f.calls_to("conversations.create"))[0]
    assert str(create.params["is_private"]).lower() in ("true", "1") and create.response["channel"]["id"].startswith("G")
    h.command("declare", trigger_id="1.2.private")
    view = h.fake.wait_for(lambda f: f.calls_to("views.open"))[0].params["view"]
    private = next(b for b in view["blocks"] if b["block_id"] == "private")["element"]
    assert private["initial_options"] == private["options"]
