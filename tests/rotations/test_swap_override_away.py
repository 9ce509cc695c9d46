"""Swaps (request, approve, decline), overrides and time off, through the real HTTP endpoint."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.rotations import handoff, service
from storage.models import RotationOverride, RotationSwap
from storage.types import utcnow
from tests.conftest import ALICE, BOB, REPORTER
from tests.rotations.helpers import (CAROL, HOUR, LONDON, USERGROUP, burden, dm_channel, future_shifts, local,
                                  oncall, shifts, start, text_of)


def _swap_pair(h):
    """Alice's future shift and Bob's next shift after it, preferring a pair of different weights (a weekend
    against a weekday) so that the ledger change is visible."""
    pairs = []
    for mine in future_shifts(h, ALICE):
        theirs = next((r for r in future_shifts(h, BOB) if r.start > mine.start), None)
        if theirs is not None:
            pairs.append((mine, theirs))
    assert pairs
    return max(pairs, key=lambda p: abs(p[0].weight - p[1].weight))


def _request(h, mine):
    day = mine.start.astimezone(LONDON).date()
    reply = text_of(oncall(h, f"swap <@{BOB}> {day}", user=ALICE))
    assert f"Asked <@{BOB}>" in reply, reply
    request = h.fake.wait_for(lambda f: next((c for c in f.calls_to("chat.postMessage")
                                              if c.params.get("channel") == dm_channel(h, BOB)
                                              and c.params.get("blocks")), None))
    buttons = next(b for b in request.params["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["oncall_swap_approve", "oncall_swap_decline"]
    return buttons[0]["value"], request.params["channel"]


def _answer(h, action: str, value: str, user: str, channel: str, expect: str) -> dict:
    before = len(h.responses())
    resp = h.sender.block_action(action, value, user=user, channel=channel)
    assert resp.status_code == 200
    return h.fake.wait_for(lambda f: next((r for r in f.responses[before:] if expect in (r.get("text") or "")), None))


def test_swap_approved_moves_both_shifts_and_the_ledger(harness_factory):
    h = start(harness_factory)
    mine, theirs = _swap_pair(h)
    before = burden(h)
    value, dm = _request(h, mine)

    # Only Bob may answer.
    wrong = _answer(h, "oncall_swap_approve", value, CAROL, dm, "Only")
    assert wrong["replace_original"] is False
    done = _answer(h, "oncall_swap_approve", value, BOB, dm, "Swapped")
    assert done["replace_original"] is True

    after_rows = {r.start: r.user_id for r in shifts(h)}
    assert after_rows[mine.start] == BOB and after_rows[theirs.start] == ALICE
    after = burden(h)
    delta = theirs.weight - mine.weight
    assert after[ALICE] == pytest.approx(before[ALICE] + delta)
    assert after[BOB] == pytest.approx(before[BOB] - delta)
    assert after[CAROL] == pytest.approx(before[CAROL])
    assert service.on_call(h.ctx, "payments", at=mine.start + HOUR) == BOB
    assert service.on_call(h.ctx, "payments", at=theirs.start + HOUR) == ALICE

    # Alice hears back; a second click changes nothing.
    h.fake.wait_for(lambda f: any("approved your" in m["text"] for m in f.messages(dm_channel(h, ALICE) or "none")))
    again = _answer(h, "oncall_swap_approve", value, BOB, dm, "already approved")
    assert again
    assert {r.start: r.user_id for r in shifts(h)} == after_rows


def test_swap_declined_leaves_the_shifts(harness_factory):
    h = start(harness_factory)
    mine, theirs = _swap_pair(h)
    rows = {r.start: r.user_id for r in shifts(h)}
    value, dm = _request(h, mine)
    _answer(h, "oncall_swap_decline", value, BOB, dm, "Declined")
    assert {r.start: r.user_id for r in shifts(h)} == rows
    with h.ctx.session() as s:
        assert s.exec(select(RotationSwap)).one().status == "declined"
    h.fake.wait_for(lambda f: any("declined your" in m["text"] for m in f.messages(dm_channel(h, ALICE) or "none")))


def test_override_changes_on_call_usergroup_and_handoff(harness_factory):
    h = start(harness_factory)
    boundary = handoff.next_boundary(h.ctx, "payments", utcnow())
    outgoing = service.on_call(h.ctx, "payments", at=boundary - HOUR)
    scheduled = service.on_call(h.ctx, "payments", at=boundary)
    cover = next(u for u in (ALICE, BOB, CAROL) if u not in (outgoing, scheduled))

    denied = oncall(h, f"override payments <@{cover}> {local(boundary)} {local(boundary + 2 * HOUR)}", user=REPORTER)
    assert "only admins and members" in denied["text"]

    reply = text_of(oncall(h, f"override <@{cover}> {local(boundary)} {local(boundary + 2 * HOUR)}", user=ALICE))
    assert "Override set" in reply
    with h.ctx.session() as s:
        row = s.exec(select(RotationOverride)).one()
    assert (row.start, row.end, row.user_id) == (boundary, boundary + 2 * HOUR, cover)
    assert service.on_call(h.ctx, "payments", at=boundary + HOUR) == cover
    assert service.on_call(h.ctx, "payments", at=boundary + 3 * HOUR) == scheduled
    # The override's end is a shift change too: the next handoff after the boundary is when it ends.
    assert handoff.next_boundary(h.ctx, "payments", boundary) == boundary + 2 * HOUR

    result = handoff.run_handoff(h.ctx, "payments", now=boundary + HOUR)
    assert result.incoming["primary"] == cover and result.outgoing["primary"] == outgoing
    assert h.fake.usergroups[USERGROUP] == [cover]
    assert cover in result.dms
    back = handoff.run_handoff(h.ctx, "payments", now=boundary + 2 * HOUR + HOUR / 2)
    assert back.outgoing["primary"] == cover and back.incoming["primary"] == scheduled
    assert h.fake.usergroups[USERGROUP] == [scheduled]


def test_away_inside_the_horizon_reports_clashes_and_keeps_frozen_shifts(harness_factory):
    h = start(harness_factory)
    shift = future_shifts(h, BOB)[0]
    rows = {r.start: r.user_id for r in shifts(h)}
    day = shift.start.astimezone(LONDON).date()
    reply = text_of(oncall(h, f"away {day} {day}", user=BOB))
    assert "You still hold 1 published shift" in reply or "You still hold 2 published shift" in reply
    assert f"/oncall swap payments @someone {day}" in reply
    assert {r.start: r.user_id for r in shifts(h)} == rows  # the promise stands until someone swaps


def test_away_beyond_the_horizon_changes_only_the_plan_beyond(harness_factory):
    h = start(harness_factory)
    now = utcnow()
    frozen = {r.start: r.user_id for r in shifts(h)}
    horizon = max(r.start for r in shifts(h))
    plan = service.schedule(h.ctx, "payments", now, now + 5 * 7 * 24 * HOUR, now=now)
    target = next(s for s in plan.shifts if s.user == BOB and s.source == "planned" and s.start > horizon + 48 * HOUR)
    first, last = target.start.astimezone(LONDON).date(), target.end.astimezone(LONDON).date()

    reply = text_of(oncall(h, f"away {first} {last}", user=BOB))
    assert "None of your published shifts" in reply

    replanned = service.schedule(h.ctx, "payments", now, now + 5 * 7 * 24 * HOUR, now=utcnow())
    slot = next(s for s in replanned.shifts if s.start == target.start)
    assert slot.user != BOB
    assert {r.start: r.user_id for r in shifts(h) if r.start in frozen} == frozen
