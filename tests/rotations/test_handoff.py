"""Handoffs: content (channel, two DMs, user group), notes once, idempotence, jobs that survive a restart, and
incident invites of the current on-call."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from bot import jobs
from bot.config import parse_config
from bot.rotations import handoff, service
from bot.server import build_context, start_in_thread
from storage.models import HandoffRecord, OncallNote
from storage.types import utcnow
from tests.conftest import ALICE, BOB, REPORTER, make_settings
from tests.rotations.helpers import (CAROL, CHANNEL, HOUR, USERGROUP, channel_messages, config, dm_channel, local,
                                  oncall, start, text_of)


def test_handoff_message_dms_usergroup_and_content(harness_factory):
    h = start(harness_factory)
    boundary = handoff.next_boundary(h.ctx, "payments", utcnow())
    outgoing = service.on_call(h.ctx, "payments", at=boundary - HOUR)
    incoming = service.on_call(h.ctx, "payments", at=boundary)
    assert outgoing and incoming and outgoing != incoming

    h.declare("sev2 Checkout API returning 500s")
    # A page the outgoing person receives during their shift (ad-hoc page to a person, through /page).
    h.sender.command("/page", f"<@{outgoing}> Ledger DB latency high <!channel>", user=REPORTER)
    h.fake.wait_for(lambda f: any("Ledger DB latency" in str(c.params) for c in f.calls_to("chat.postMessage")
                                  if c.params["channel"] == dm_channel(h, outgoing)))
    oncall(h, "note Deploy freeze until Friday; ask <@U0BOB> before merging", user=outgoing)

    result = handoff.run_handoff(h.ctx, "payments", now=boundary + timedelta(minutes=1))
    assert result.sent and result.boundary == boundary and result.notes == 1

    [post] = channel_messages(h, contains="Handoff: payments")
    body = text_of(post)
    assert f"*Now*: <@{incoming}> until <!date^" in body and "*next*: <@" in body
    assert f"Handed over by <@{outgoing}>" in body
    assert "INC-1 Checkout API returning 500s (SEV2, investigating)" in body
    assert "Pages during the last shift (1)" in body and "Ledger DB latency high &lt;!channel&gt;" in body
    assert "Deploy freeze until Friday; ask &lt;@U0BOB&gt; before merging" in body
    assert "Fairness: Max deviation: " in body and "of the heaviest shift" in body

    incoming_dm = [m for m in h.fake.messages(dm_channel(h, incoming)) if "Handoff: payments" in text_of(m)]
    outgoing_dm = [m for m in h.fake.messages(dm_channel(h, outgoing)) if "Handoff: payments" in text_of(m)]
    assert len(incoming_dm) == 1 and "You are on call for *payments* now" in text_of(incoming_dm[0])
    assert len(outgoing_dm) == 1 and "shift is over" in text_of(outgoing_dm[0])
    assert h.fake.usergroups[USERGROUP] == [incoming]
    assert h.fake.calls_to("usergroups.users.update")[-1].params == {"usergroup": USERGROUP, "users": incoming}


def test_handoff_is_idempotent_and_notes_are_carried_once(harness_factory):
    h = start(harness_factory)
    boundary = handoff.next_boundary(h.ctx, "payments", utcnow())
    oncall(h, "note payments Watch the settlement batch at 02:00", user=CAROL)

    first = handoff.run_handoff(h.ctx, "payments", now=boundary + timedelta(minutes=1))
    again = handoff.run_handoff(h.ctx, "payments", now=boundary + timedelta(minutes=2))
    assert first.sent and again is None
    assert len(channel_messages(h, contains="Handoff: payments")) == 1
    with h.ctx.session() as s:
        assert len(s.exec(select(HandoffRecord)).all()) == 1
        assert s.exec(select(OncallNote)).one().delivered_at is not None

    following = handoff.next_boundary(h.ctx, "payments", boundary)
    handoff.run_handoff(h.ctx, "payments", now=following + timedelta(minutes=1))
    posts = channel_messages(h, contains="Handoff: payments")
    assert len(posts) == 2
    assert "settlement batch" in text_of(posts[0]) and "settlement batch" not in text_of(posts[1])
    # Each handoff schedules the next one.
    job = h.ctx.services.scheduler.aps.get_job("handoff:payments")
    assert job.next_run_time == handoff.next_boundary(h.ctx, "payments", following + timedelta(minutes=1))


def test_usergroup_is_never_emptied(harness_factory):
    h = start(harness_factory)
    cfg = service.rotation_config(h.ctx, "payments")
    assert handoff.sync_usergroup(h.ctx, cfg, []) is False
    assert not h.fake.attempts("usergroups.users.update")


def test_start_schedules_the_next_handoff_once(harness_factory):
    h = start(harness_factory)
    scheduler = h.ctx.services.scheduler
    job = scheduler.aps.get_job("handoff:payments")
    assert job.next_run_time == handoff.next_boundary(h.ctx, "payments", utcnow())
    handoff.start_handoffs(h.ctx)  # a second start replaces, never duplicates
    assert [j for j in scheduler.job_ids() if j.startswith("handoff:")] == ["handoff:payments"]


def test_handoff_job_survives_a_restart(harness_factory, database_url, fake_slack):
    cfg = config()
    fake_slack.fake.add_user(CAROL, "Carol")
    fake_slack.fake.add_channel(CHANNEL, "payments-oncall")
    first = start_in_thread(build_context(make_settings(database_url, fake_slack.api_url), parse_config(cfg)))
    try:
        # The boundary comes in 3 s; this instance stops before then.
        due = utcnow() + timedelta(seconds=3)
        first.ctx.services.scheduler.at("handoff:payments", due, jobs.shift_handoff, ("payments",),
                                           grace=handoff.HANDOFF_GRACE)
    finally:
        first.stop()
    assert utcnow() < due, "the first instance must stop before the job is due"
    with first.ctx.engine.connect() as conn:  # disposed engines reconnect on use
        stored = conn.execute(text("SELECT id FROM apscheduler_jobs")).scalars().all()
    first.ctx.engine.dispose()
    assert "handoff:payments" in stored
    time.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.5)
    assert not channel_messages_fake(fake_slack.fake)

    h = harness_factory(cfg)  # a new process on the same database, its clock past the boundary
    h.fake.wait_for(lambda f: channel_messages_fake(f) and f.usergroups.get(USERGROUP), timeout=15)
    expected = handoff.latest_boundary(h.ctx, "payments", utcnow())
    with h.ctx.session() as s:
        records = s.exec(select(HandoffRecord)).all()
    assert [r.boundary for r in records] == [expected]
    assert h.fake.usergroups[USERGROUP] == [service.on_call(h.ctx, "payments", at=expected)]
    # It ran once, and the chain goes on: the next boundary is scheduled.
    assert handoff.run_handoff(h.ctx, "payments") is None
    assert len(channel_messages_fake(h.fake)) == 1
    job = h.ctx.services.scheduler.aps.get_job("handoff:payments")
    assert job.next_run_time > utcnow()


def channel_messages_fake(fake) -> list:
    return [m for m in fake.messages(CHANNEL) if "Handoff: payments" in (m.get("text") or "") + str(m.get("blocks"))]


def test_declared_incidents_invite_the_current_on_call(harness_factory):
    h = start(harness_factory, config(invite_rotations=["payments"]))
    now = utcnow()
    current = service.on_call(h.ctx, "payments", at=now)
    channel = h.declare("sev2 Payments failing")
    invite = next(c for c in h.fake.calls_to("conversations.invite") if c.params["channel"] == channel)
    assert invite.params["users"].split(",") == [REPORTER, current]

    cover = next(u for u in (ALICE, BOB, CAROL) if u != current)
    oncall(h, f"override <@{cover}> {local(now - HOUR)} {local(now + 2 * HOUR)}", user=ALICE)
    assert h.fake.usergroups[USERGROUP] == [cover]  # an override in force takes the user group at once
    h.command("declare sev3 Refunds slow")
    invite = h.fake.wait_for(lambda f: next((c for c in f.calls_to("conversations.invite")
                                             if c.params["channel"] != channel), None))
    assert invite.params["users"].split(",") == [REPORTER, cover]
