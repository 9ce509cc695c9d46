"""Who may do what in `/oncall` (issue 10), through the real HTTP endpoint with signed requests: overrides
(admins for anyone; a member only hands their own shift to another member; both people get a DM), their bounds,
withdrawing a swap request, and unknown users."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from bot.rotations import service
from storage.models import RotationOverride, RotationSwap
from storage.types import utcnow
from tests.conftest import ALICE, BOB, REPORTER
from tests.rotations.helpers import CAROL, HOUR, LONDON, dm_channel, future_shifts, local, oncall, shifts, start, text_of

NOBODY = "U0NOBODY"
DATE_TOKEN = re.compile(r"<!date\^\d+\^")


def _overrides(h) -> list[RotationOverride]:
    with h.ctx.session() as s:
        return list(s.exec(select(RotationOverride)))


def _dms(h, user: str) -> list[str]:
    channel = dm_channel(h, user)
    return [text_of(m) for m in h.fake.messages(channel)] if channel else []


def _wait_dm(h, user: str, contains: str) -> str:
    return h.fake.wait_for(lambda f: next((t for t in _dms(h, user) if contains in t), None))


def _later_shift(h, user: str):
    """A future primary shift of `user` starting at least an hour from now."""
    return next(r for r in future_shifts(h, user) if r.role == "primary" and r.start > utcnow() + HOUR)


def test_member_hands_own_shift_to_another_member_and_both_get_a_dm(harness_factory):
    h = start(harness_factory)
    mine = _later_shift(h, BOB)
    reply = text_of(oncall(h, f"override <@{CAROL}> {local(mine.start)} {local(mine.start + 2 * HOUR)}", user=BOB))
    assert "Override set" in reply, reply
    [row] = _overrides(h)
    assert (row.user_id, row.start, row.end, row.created_by) == (CAROL, mine.start, mine.start + 2 * HOUR, BOB)
    assert service.on_call(h.ctx, "payments", at=mine.start + HOUR) == CAROL

    new = _wait_dm(h, CAROL, "You are now on call")
    displaced = _wait_dm(h, BOB, "no longer on call")
    for dm in (new, displaced):
        assert f"Set by <@{BOB}>" in dm and DATE_TOKEN.search(dm), dm
    assert f"in place of <@{BOB}>" in new
    assert f"<@{CAROL}> covers it" in displaced


def test_member_cannot_override_someone_elses_shift(harness_factory):
    h = start(harness_factory)
    theirs = _later_shift(h, ALICE)
    reply = text_of(oncall(h, f"override <@{CAROL}> {local(theirs.start)} {local(theirs.start + HOUR)}", user=BOB))
    assert "only hand over your own" in reply, reply
    assert _overrides(h) == []
    assert service.on_call(h.ctx, "payments", at=theirs.start + HOUR / 2) == ALICE


def test_member_cannot_put_a_non_member_on_their_shift(harness_factory):
    h = start(harness_factory)
    mine = _later_shift(h, BOB)
    reply = text_of(oncall(h, f"override <@{REPORTER}> {local(mine.start)} {local(mine.start + HOUR)}", user=BOB))
    assert f"<@{REPORTER}> is not in the *payments* rotation" in reply, reply
    assert _overrides(h) == []


def test_outsider_cannot_set_any_override(harness_factory):
    h = start(harness_factory)
    shift = _later_shift(h, BOB)
    reply = text_of(oncall(h, f"override <@{REPORTER}> {local(shift.start)} {local(shift.start + HOUR)}",
                           user=REPORTER))
    assert "only admins and members" in reply
    assert _overrides(h) == []


def test_admin_can_put_anyone_on_anyones_shift_and_both_are_told(harness_factory):
    h = start(harness_factory)
    theirs = _later_shift(h, BOB)
    reply = text_of(oncall(h, f"override <@{REPORTER}> {local(theirs.start)} {local(theirs.start + HOUR)}",
                           user=ALICE))
    assert "Override set" in reply, reply
    assert service.on_call(h.ctx, "payments", at=theirs.start + HOUR / 2) == REPORTER
    assert f"Set by <@{ALICE}>" in _wait_dm(h, REPORTER, "You are now on call")
    assert f"<@{REPORTER}> covers it" in _wait_dm(h, BOB, "no longer on call")


def test_override_length_and_horizon_are_bounded(harness_factory):
    h = start(harness_factory)
    soon = (utcnow() + timedelta(days=1)).astimezone(LONDON)
    too_long = text_of(oncall(h, f"override <@{BOB}> {soon:%Y-%m-%d} {(soon + timedelta(days=40)):%Y-%m-%d}",
                              user=ALICE))
    assert "at most 31 days" in too_long, too_long
    far = soon + timedelta(days=200)
    too_far = text_of(oncall(h, f"override <@{BOB}> {far:%Y-%m-%d} {far:%Y-%m-%d}", user=ALICE))
    assert "within the next 180 days" in too_far, too_far
    until_2099 = text_of(oncall(h, f"override <@{BOB}> {soon:%Y-%m-%d} 2099-12-31", user=ALICE))
    assert "at most 31 days" in until_2099
    year_9999 = text_of(oncall(h, f"override <@{BOB}> 9999-12-30 9999-12-31", user=ALICE))
    assert "out of range" in year_9999
    assert _overrides(h) == []


def test_unknown_users_are_refused_in_override_and_swap(harness_factory):
    h = start(harness_factory)
    mine = _later_shift(h, BOB)
    day = mine.start.astimezone(LONDON).date()
    override = text_of(oncall(h, f"override <@{NOBODY}> {local(mine.start)} {local(mine.start + HOUR)}", user=ALICE))
    assert f"I can't find <@{NOBODY}>" in override, override
    swap = text_of(oncall(h, f"swap <@{NOBODY}> {day}", user=BOB))
    assert f"I can't find <@{NOBODY}>" in swap, swap
    assert _overrides(h) == []
    with h.ctx.session() as s:
        assert s.exec(select(RotationSwap)).all() == []
    assert not any(c.params.get("users") == NOBODY for c in h.fake.calls_to("conversations.open"))


def _ask_swap(h):
    """Alice asks Bob to take one of her shifts that has a later shift of Bob's; returns (row, Approve value)."""
    mine = next(r for r in future_shifts(h, ALICE) if any(b.start > r.start for b in future_shifts(h, BOB)))
    reply = text_of(oncall(h, f"swap <@{BOB}> {mine.start.astimezone(LONDON).date()}", user=ALICE))
    assert f"Asked <@{BOB}>" in reply and "withdraw" in reply, reply
    request = h.fake.wait_for(lambda f: next((c for c in f.calls_to("chat.postMessage")
                                              if c.params.get("channel") == dm_channel(h, BOB)
                                              and c.params.get("blocks")), None))
    buttons = next(b for b in request.params["blocks"] if b["type"] == "actions")["elements"]
    return mine, buttons[0]["value"]


def test_requester_withdraws_a_pending_swap_and_the_other_party_is_told(harness_factory):
    h = start(harness_factory)
    rows = {r.start: r.user_id for r in shifts(h)}
    mine, approve = _ask_swap(h)
    reply = text_of(oncall(h, "swap withdraw", user=ALICE))
    assert "Withdrew 1 swap request" in reply, reply
    assert f"<@{ALICE}> withdrew" in _wait_dm(h, BOB, "withdrew")
    with h.ctx.session() as s:
        assert s.exec(select(RotationSwap)).one().status == "withdrawn"

    # Bob's Approve button now does nothing.
    before = len(h.responses())
    h.sender.block_action("oncall_swap_approve", approve, user=BOB, channel=dm_channel(h, BOB))
    answer = h.fake.wait_for(lambda f: next((r for r in f.responses[before:]
                                             if "already withdrawn" in (r.get("text") or "")), None))
    assert answer
    assert {r.start: r.user_id for r in shifts(h)} == rows
    assert text_of(oncall(h, "swap withdraw", user=ALICE)).startswith("You have no pending swap requests")


def test_only_the_requester_can_withdraw(harness_factory):
    h = start(harness_factory)
    _ask_swap(h)
    for other in (BOB, CAROL):
        assert "You have no pending swap requests" in text_of(oncall(h, "swap withdraw", user=other))
    with h.ctx.session() as s:
        assert s.exec(select(RotationSwap)).one().status == "pending"
    assert not any("withdrew" in t for t in _dms(h, BOB))
