"""Issue 15's rough edges in the incident flow: long titles, aliases, help from the registry, reopen, updates
after resolve and `ack`, end to end through signed requests against the Slack stand-in."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.incidents.domain import TITLE_MAX
from storage.models import AuditLog, Incident, TimelineEvent
from tests.conftest import ALICE, ANNOUNCE, BOB, REPORTER


def _incident(h) -> Incident:
    with h.ctx.session() as s:
        return s.exec(select(Incident)).one()


def _kinds(h) -> list[str]:
    with h.ctx.session() as s:
        return [e.kind for e in s.exec(select(TimelineEvent).order_by(TimelineEvent.id))]


def test_a_long_title_is_shortened_and_kept_as_the_description(harness):
    h = harness
    title = ("Checkout API returning 500s for card payments in eu-west-1 since the 14:02 deploy; retries make it "
             "worse and the queue is backing up, customers see timeouts on the confirmation page")
    assert len(title) > TITLE_MAX
    h.command(f"declare sev2 {title}")
    reply = h.wait_response("declared")
    assert "shortened" in reply["text"] and "description" in reply["text"]
    inc = _incident(h)
    assert len(inc.title) <= TITLE_MAX and inc.title.endswith("…") and title.startswith(inc.title[:-1])
    assert inc.description == title
    assert inc.severity == "sev2"


def test_ic_alias_and_spaced_severity(harness):
    h = harness
    channel = h.declare()
    h.command(f"ic <@{ALICE}|alice>", channel=channel)
    h.fake.wait_for(lambda f: f.channels[channel]["topic"].endswith(f"commander: <@{ALICE}>"))
    h.command("sev 1", channel=channel)
    h.fake.wait_for(lambda f: f.channels[channel]["topic"].startswith("SEV1"))
    assert _incident(h).commander_id == ALICE and _incident(h).severity == "sev1"


def test_help_comes_from_the_registry_with_features_commands(harness):
    h = harness
    text = h.command("help").json()["text"]
    for usage in ("declare [sevN] <title>", "reopen [reason]", "ack", "status investigating|"):
        assert f"`/incident {usage}" in text
    # Sub-commands the installed features add (assist's triage) are listed once, from the same registry.
    for name in h.ctx.services.incident_commands:
        assert len(re.findall(rf"`/incident {re.escape(name)}[ `]", text)) == 1, name


def test_ack_records_who_is_on_it(harness):
    h = harness
    channel = h.declare()
    h.command("ack", channel=channel, user=BOB)
    h.fake.wait_for(lambda f: any("acknowledged and is on it" in (c.params.get("text") or "")
                                  for c in f.calls_to("chat.postMessage")))
    assert _incident(h).acknowledged_at is not None
    assert "acknowledged" in _kinds(h)


def test_reopen_returns_to_investigating_and_updates_summary_and_announcement(harness):
    h = harness
    channel = h.declare()
    h.command("resolve rolled back", channel=channel)
    h.fake.wait_for(lambda f: _incident(h).status == "resolved")
    h.command("reopen errors are back after the retry storm", channel=channel, user=REPORTER)
    h.fake.wait_for(lambda f: any("reopened" in (c.params.get("text") or "") for c in f.calls_to("chat.postMessage")))
    inc = _incident(h)
    assert inc.status == "investigating" and inc.resolved_at is None
    assert _kinds(h)[-1] == "reopened"
    h.fake.wait_for(lambda f: any(c.params["ts"] == inc.summary_ts and "investigating" in str(c.params["blocks"])
                                  for c in f.calls_to("chat.update")))
    h.fake.wait_for(lambda f: any(c.params["ts"] == inc.announcement_ts and "investigating" in str(c.params["blocks"])
                                  for c in f.calls_to("chat.update") if c.params["channel"] == ANNOUNCE))
    with h.ctx.session() as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "reopen")).one()
    assert audit.actor_id == REPORTER and audit.after["reason"] == "errors are back after the retry storm"


def test_reopen_is_refused_to_outsiders_and_on_open_incidents(harness):
    h = harness
    channel = h.declare()
    h.command("reopen", channel=channel)
    assert "not resolved" in h.wait_response("nothing to reopen")["text"]
    h.command("resolve", channel=channel)
    h.fake.wait_for(lambda f: _incident(h).status == "resolved")
    h.command("reopen I think so", channel=channel, user=BOB)  # BOB has no part in the incident
    refused = h.wait_response("can reopen it")
    assert refused["response_type"] == "ephemeral" and "commander" in refused["text"]
    assert _incident(h).status == "resolved"
    h.command("reopen", channel=channel, user=ALICE)  # an admin may
    h.fake.wait_for(lambda f: _incident(h).status == "investigating")


def test_update_after_resolve_says_so_and_is_not_announced(harness):
    h = harness
    channel = h.declare()
    h.command("resolve", channel=channel)
    h.fake.wait_for(lambda f: any(c.params["channel"] == ANNOUNCE and "resolved*" in (c.params.get("text") or "")
                                  for c in f.calls_to("chat.postMessage")))
    announced_before = len([c for c in h.fake.calls_to("chat.postMessage") if c.params["channel"] == ANNOUNCE])
    h.command("update customers confirmed all good", channel=channel)
    reply = h.wait_response("not announced")
    assert "is resolved" in reply["text"] and "/incident reopen" in reply["text"]
    note = next(c for c in h.fake.calls_to("chat.postMessage") if "customers confirmed" in (c.params.get("text") or ""))
    assert note.params["channel"] == channel and "the incident is resolved" in note.params["text"]
    assert "(SEV" not in note.params["text"]
    assert len([c for c in h.fake.calls_to("chat.postMessage") if c.params["channel"] == ANNOUNCE]) == announced_before
    assert _kinds(h)[-1] == "update"
