"""iCal: SEQUENCE / LAST-MODIFIED rise when an event changes; planned (unpublished) shifts are tentative."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import httpx
from icalendar import Calendar

from bot.rotations import service
from bot.rotations.domain.ical import communicated, revise, shift_uid, to_ical
from bot.rotations.domain.models import Shift
from storage.types import utcnow
from tests.conftest import BOB
from tests.rotations.helpers import oncall, shifts, start, text_of

T0 = datetime(2027, 3, 1, 10, tzinfo=timezone.utc)


def _shift(day: int, user: str, source: str = "frozen") -> Shift:
    begin = T0 + timedelta(days=day)
    return Shift("payments", "primary", user, begin, begin + timedelta(days=1), 1.0, source)


def _events(data: bytes) -> dict[str, object]:
    return {str(e["uid"]): e for e in Calendar.from_ical(data).walk("VEVENT")}


def test_a_changed_event_gets_the_next_sequence_and_its_own_last_modified():
    first = [_shift(0, "U0ANA"), _shift(1, "U0BEN"), _shift(2, "U0CAT", source="planned")]
    seen = revise(first, {}, T0)
    assert {r.sequence for r in seen.values()} == {0}
    later = T0 + timedelta(hours=5)
    second = [_shift(0, "U0ANA"), replace(first[1], user="U0CAT"), replace(first[2], source="frozen")]
    again = revise(second, seen, later)
    events = _events(to_ical(second, revisions=again, stamp=later))
    unchanged, swapped, published = (events[shift_uid(s)] for s in second)
    assert (unchanged["sequence"], unchanged.decoded("last-modified")) == (0, T0)
    assert (swapped["sequence"], swapped.decoded("last-modified")) == (1, later)
    assert (published["sequence"], published["status"]) == (1, "CONFIRMED")  # tentative -> confirmed is news
    # The same content served again changes nothing.
    assert revise(second, again, later + timedelta(days=1)) == again


def test_planned_shifts_are_tentative_and_published_ones_confirmed():
    events = _events(to_ical([_shift(0, "U0ANA"), _shift(1, "U0BEN", source="planned"),
                              _shift(2, "U0CAT", source="override")], stamp=T0))
    assert [str(e["status"]) for e in events.values()] == ["CONFIRMED", "TENTATIVE", "CONFIRMED"]
    assert all(e["sequence"] == 0 and "last-modified" not in e for e in events.values())


def test_the_feed_raises_sequence_of_swapped_shifts_only(harness_factory):
    h = start(harness_factory, FIREWATCH_PUBLIC_URL="https://fw.example.com/")
    token = re.search(r"token=([\w-]+)", text_of(oncall(h, "export", user=BOB))).group(1)
    with httpx.Client(base_url=h.running.url, timeout=10) as http:
        before = _events(http.get(f"/oncall/payments.ics?token={token}").content)
        now = utcnow()
        rows = [r for r in shifts(h) if r.start > now]
        first, second = next((a, b) for a, b in zip(rows, rows[1:]) if a.user_id != b.user_id)
        service.swap_shifts(h.ctx, first.id, second.id)
        after = _events(http.get(f"/oncall/payments.ics?token={token}").content)
    published = {r.start for r in shifts(h)}
    statuses = {e.decoded("dtstart") in published: str(e["status"]) for e in after.values()}
    assert statuses == {True: "CONFIRMED", False: "TENTATIVE"}
    # Among published shifts only the two swapped ones changed (planned ones beyond the horizon may re-plan).
    changed = {uid for uid, e in after.items() if e["sequence"] > 0 and str(e["status"]) == "CONFIRMED"}
    swapped = {f"payments-primary-{r.start:%Y%m%dT%H%M%SZ}@firewatch" for r in (first, second)}
    assert changed == swapped
    assert all(after[uid]["x-firewatch-user"] != before[uid]["x-firewatch-user"] for uid in swapped)
    assert all(e["sequence"] == 0 for e in before.values())
    assert all("last-modified" in e for e in after.values())
    # Tentative shifts the feed already showed are the previous plan: the swap re-plans few of them (it moved
    # most of them before the planner was given what the feed had shown).
    moved = [uid for uid, e in after.items() if str(e["status"]) == "TENTATIVE" and uid in before
             and e["x-firewatch-user"] != before[uid]["x-firewatch-user"]]
    tentative = sum(1 for e in before.values() if str(e["status"]) == "TENTATIVE")
    print(f"tentative shown {tentative}, moved by the swap {len(moved)}")
    assert tentative >= 10 and len(moved) <= 2


def test_communicated_reads_back_what_the_feed_showed():
    shown = [_shift(0, "U0ANA"), _shift(1, "U0BEN", source="planned"), _shift(2, "U0CAT", source="planned")]
    revisions = revise(shown, {}, T0)
    back = communicated(revisions, "payments")
    assert [(s.role, s.user, s.start, s.end) for s in back] == [(s.role, s.user, s.start, s.end) for s in shown[1:]]
    assert communicated(revisions, "other") == []
