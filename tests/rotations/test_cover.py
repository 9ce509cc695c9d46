"""`/oncall cover`: the requester's time offered by DM to eligible members, lowest burden against fair share first;
the first to press "Take these shifts" gets it (an override), a second press is refused. Through signed requests."""

from __future__ import annotations

import copy

import pytest
from sqlmodel import select

from bot.rotations import service
from bot.rotations.domain import fairness_report, horizon_end
from bot.rotations.domain.commands import OncallUsageError, parse_oncall_command
from storage.models import RotationOverride
from storage.tables_rotations import RotationCoverOffer
from storage.types import utcnow
from tests.conftest import ALICE, BOB
from tests.rotations.helpers import (CAROL, CHANNEL, CONFIG, HOUR, LONDON, ROTATION, burden, dm_channel, local,
                                     oncall, shifts, start, text_of)

DAVE, ERIN = "U0DAVE", "U0ERIN"
PEOPLE = ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"), (DAVE, "Dave"), (ERIN, "Erin"))


def _config() -> dict:
    cfg = copy.deepcopy(CONFIG)
    rotation = copy.deepcopy(ROTATION)
    rotation["members"] = [{"user": u, "name": n, "timezone": "Europe/London", "country": "GB"} for u, n in PEOPLE]
    rotation["rules"] = {"min_rest_shifts": 0, "no_back_to_back": True}
    cfg["admins"] = []  # Alice hands over her own time as a member, as anyone would
    cfg["rotations"] = [rotation]
    return cfg


def _start(harness_factory):
    h = start(harness_factory, _config())
    for user, name in PEOPLE:
        if user not in h.fake.users:
            h.fake.add_user(user, name)
    return h


def _alice_shift(h):
    """Alice's next whole future shift, with its neighbours (who would work back to back if they took it)."""
    now = utcnow()
    rows = [r for r in shifts(h) if r.role == "primary"]
    for i, row in enumerate(rows[1:-1], 1):
        if row.user_id == ALICE and row.start > now + HOUR:
            return row, {rows[i - 1].user_id, rows[i + 1].user_id}
    raise AssertionError("Alice has no future shift with neighbours")


def _offers(h) -> dict[str, dict]:
    """Offer DMs sent, by recipient, in the order they were sent (dict keeps insertion order)."""
    found = {}
    for call in h.fake.calls_to("chat.postMessage"):
        blocks = call.params.get("blocks") or []
        actions = [b for b in blocks if b.get("type") == "actions"]
        if actions and actions[0]["elements"][0]["action_id"] == "oncall_cover_take":
            user = next(u for u, _ in PEOPLE if dm_channel(h, u) == call.params["channel"])
            found[user] = {"channel": call.params["channel"], "value": actions[0]["elements"][0]["value"],
                           "text": text_of(call.params)}
    return found


def _take(h, offer: dict, user: str, expect: str) -> dict:
    before = len(h.responses())
    resp = h.sender.block_action("oncall_cover_take", offer["value"], user=user, channel=offer["channel"])
    assert resp.status_code == 200
    return h.fake.wait_for(lambda f: next((r for r in f.responses[before:] if expect in (r.get("text") or "")), None))


def _ledger(h) -> dict[str, float]:
    now = utcnow()
    cfg = service.rotation_config(h.ctx, "payments")
    report = fairness_report(service.schedule(h.ctx, "payments", now, horizon_end(cfg, now), now=now))
    return {m.user: m.deviation for m in report.members}


def test_cover_grammar_keeps_the_reason_and_dates_like_away():
    cmd = parse_oncall_command("cover 2027-03-01 2027-03-03 dentist,  then  school run", ["payments"])
    assert cmd.name == "cover" and cmd.rotation is None
    assert str(cmd.args["start"]) == "2027-03-01" and str(cmd.args["end"]) == "2027-03-03"
    assert cmd.args["reason"] == "dentist,  then  school run"
    named = parse_oncall_command("cover payments 2027-03-01T09:00 tomorrow", ["payments"])
    assert named.rotation == "payments" and named.args["end"] == "tomorrow" and named.args["reason"] == ""
    with pytest.raises(OncallUsageError, match="needs a start and an end"):
        parse_oncall_command("cover 2027-03-01", ["payments"])
    with pytest.raises(OncallUsageError, match="not a date"):
        parse_oncall_command("cover soon 2027-03-01", ["payments"])


def test_cover_offers_in_burden_order_first_accept_wins(harness_factory):
    h = _start(harness_factory)
    mine, neighbours = _alice_shift(h)
    ledger = _ledger(h)
    before = burden(h)
    reply = text_of(oncall(h, f"cover {local(mine.start)} {local(mine.end)} dentist", user=ALICE))
    assert "Asked" in reply, reply

    offers = _offers(h)
    eligible = [u for u, _ in PEOPLE if u != ALICE and u not in neighbours]
    # Everybody who would not work back to back is asked; the neighbours are not, and the reply says why.
    assert set(offers) == set(eligible)
    for n in neighbours - {ALICE}:
        assert f"<@{n}> (would work back to back" in reply
    # Lowest burden against fair share first, in the DMs' order and in each DM's stated place.
    expected = sorted(eligible, key=lambda u: (round(ledger[u], 6), u))
    assert list(offers) == expected
    assert "1st of" in offers[expected[0]]["text"] and "dentist" in offers[expected[0]]["text"]

    # A neighbour pressing a forwarded button is refused; the first candidate takes it; the second is told who.
    if neighbours - {ALICE}:
        outsider = sorted(neighbours - {ALICE})[0]
        _take(h, offers[expected[0]], outsider, "offered to other members")
    first, second = expected[0], expected[-1]
    done = _take(h, offers[first], first, "Done")
    assert done["replace_original"] is False
    if second != first:
        refused = _take(h, offers[second], second, "already taken by")
        assert f"<@{first}>" in refused["text"]

    assert service.on_call(h.ctx, "payments", at=mine.start + HOUR) == first
    with h.ctx.session() as s:
        overrides = list(s.exec(select(RotationOverride).where(RotationOverride.user_id == first)))
        offer = s.exec(select(RotationCoverOffer)).one()
    assert len(overrides) == 1 and overrides[0].created_by == ALICE
    assert (offer.status, offer.taken_by, offer.reason) == ("taken", first, "dentist")
    after = burden(h)
    assert after[ALICE] == pytest.approx(before[ALICE] - mine.weight)
    assert after[first] == pytest.approx(before[first] + mine.weight)

    # Both people hear of it; every offer DM lost its button.
    h.fake.wait_for(lambda f: any("took your" in m["text"] for m in f.messages(dm_channel(h, ALICE) or "none")))
    assert any("You now cover" in m["text"] for m in h.fake.messages(dm_channel(h, first)))
    for user, post in offers.items():
        msg = next(m for m in h.fake.messages(post["channel"]) if m.get("edited"))
        assert not any(b["type"] == "actions" for b in msg["blocks"]), user


def test_cover_skips_people_away_and_refuses_what_is_not_yours(harness_factory):
    h = _start(harness_factory)
    mine, neighbours = _alice_shift(h)
    away = next(u for u, _ in PEOPLE if u != ALICE and u not in neighbours)
    day = mine.start.astimezone(LONDON).date()
    assert "Away" in text_of(oncall(h, f"away {day} {day}", user=away))
    reply = text_of(oncall(h, f"cover {local(mine.start)} {local(mine.end)}", user=ALICE))
    assert away not in _offers(h) and f"<@{away}> (away then)" in reply

    other = next(r for r in shifts(h) if r.user_id != ALICE and r.start > mine.end)
    refused = text_of(oncall(h, f"cover {local(other.start)} {local(other.end)}", user=ALICE))
    assert "you hold no *payments* shift" in refused
    again = text_of(oncall(h, f"cover {local(mine.start)} {local(mine.end)}", user=ALICE))
    assert "already asked for cover" in again
    assert CHANNEL not in [c.params.get("channel") for c in h.fake.calls_to("chat.postMessage")
                           if "cover" in (c.params.get("text") or "")]


def test_two_accepts_at_once_give_the_time_to_one(harness_factory):
    """The claim is one conditional UPDATE: of two accepts racing, exactly one is recorded."""
    import threading

    h = _start(harness_factory)
    mine, _neighbours = _alice_shift(h)
    oncall(h, f"cover {local(mine.start)} {local(mine.end)}", user=ALICE)
    offers = _offers(h)
    assert len(offers) >= 2
    racers = list(offers)[:2]
    value = int(offers[racers[0]]["value"])
    results, barrier = {}, threading.Barrier(2)

    def take(user):
        barrier.wait()
        results[user] = service.take_cover(h.ctx, value, user)

    threads = [threading.Thread(target=take, args=(u,)) for u in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [u for u, r in results.items() if r.taken]
    assert len(winners) == 1
    loser = next(u for u in racers if u not in winners)
    assert f"already taken by <@{winners[0]}>" in results[loser].message
    with h.ctx.session() as s:
        assert [o.user_id for o in s.exec(select(RotationOverride))] == winners


def test_cover_rules_in_plain_python():
    """The candidate check on its own: shifts per window, rest, membership dates (no Slack, no database)."""
    from datetime import datetime, timedelta, timezone

    from bot.rotations.domain import RotationConfig
    from bot.rotations.domain.cover import Candidate, Span, blocker, ranked

    rotation = RotationConfig.model_validate({
        "name": "r", "timezone": "UTC", "shift": {"length": "1d", "handoff_time": "00:00"},
        "members": [{"user": "U0ONE"}, {"user": "U0TWO", "left": "2027-03-03"}],
        "rules": {"min_rest_shifts": 1, "max_shifts_in_window": {"shifts": 2, "window": "7d"}}})
    day = timedelta(days=1)
    t0 = datetime(2027, 3, 5, tzinfo=timezone.utc)
    piece = [Span("primary", t0, t0 + day)]
    assert blocker(rotation, "U0ONE", piece, []) is None
    assert "back to back" in blocker(rotation, "U0ONE", piece, [Span("primary", t0 + day, t0 + 2 * day)])
    assert blocker(rotation, "U0ONE", piece, [Span("primary", t0 + 2 * day, t0 + 3 * day)]) is None
    two = [Span("primary", t0 - 4 * day, t0 - 3 * day), Span("primary", t0 + 2 * day, t0 + 3 * day)]
    assert "more than 2 shifts in 7d" in blocker(rotation, "U0ONE", piece, two)
    assert blocker(rotation, "U0TWO", piece, []) == "not on the rotation then"
    assert blocker(rotation, "U0NINE", piece, []) == "not in the rotation"
    order = ranked([Candidate("A", "A", 10, 9), Candidate("B", "B", 4, 5), Candidate("C", "C", 2, 1)])
    assert [c.user for c in order] == ["B", "C", "A"]
