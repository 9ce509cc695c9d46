"""DST behaviour of the shift grid: contiguous shifts, 23/25 h days, missing and repeated handoff times."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.rotations.domain.engine import plan
from bot.rotations.domain.timeline import ShiftGrid, resolve_wall_time, to_aware
from tests.rotations.factory import rotation

UTC = timezone.utc


def hours(slot) -> float:
    return (slot.end - slot.start).total_seconds() / 3600


def slot_starting_on(grid: ShiftGrid, day: date):
    for slot in grid.slots(to_aware(day, grid.tz), to_aware(day + timedelta(days=1), grid.tz)):
        if slot.start.astimezone(grid.tz).date() == day:
            return slot
    raise AssertionError(f"no slot starts on {day}")


@pytest.mark.parametrize("tz", ["Europe/London", "America/New_York", "Australia/Lord_Howe"])
@pytest.mark.parametrize("length,handoff", [("1d", "10:00"), ("12h", "01:30"), ("1w", "02:30"), ("1d", "02:15")])
def test_shifts_are_contiguous_for_a_whole_year(tz, length, handoff):
    shift = {"length": length, "handoff_time": handoff}
    grid = ShiftGrid(rotation(4, timezone=tz, shift=shift))
    slots = grid.slots(to_aware(date(2027, 1, 1), grid.tz), to_aware(date(2028, 1, 1), grid.tz))
    nominal = grid.step.total_seconds() / 3600
    for a, b in zip(slots, slots[1:]):
        assert a.end == b.start  # no gap, no overlap
        assert b.index == a.index + 1
    for s in slots:
        assert s.start.tzinfo is not None
        assert abs(hours(s) - nominal) <= 1.0  # at most one hour of DST difference
    # Real transitions happened: not every shift has the nominal length.
    assert any(hours(s) != nominal for s in slots)


def test_london_daily_shifts_are_23_and_25_hours_on_transition_days():
    grid = ShiftGrid(rotation(4))
    spring = slot_starting_on(grid, date(2027, 3, 27))
    autumn = slot_starting_on(grid, date(2027, 10, 30))
    assert hours(spring) == 23
    assert hours(autumn) == 25
    assert spring.end.astimezone(grid.tz).isoformat() == "2027-03-28T10:00:00+01:00"
    assert autumn.end.astimezone(grid.tz).isoformat() == "2027-10-31T10:00:00+00:00"


def test_london_weekly_shift_over_dst_is_167_hours():
    grid = ShiftGrid(rotation(4, shift={"length": "1w", "handoff_day": "mon", "handoff_time": "10:00"}))
    week = slot_starting_on(grid, date(2027, 3, 22))
    assert week.start.astimezone(grid.tz).weekday() == 0 and hours(week) == 167


def test_new_york_ambiguous_handoff_resolves_to_first_occurrence():
    # 2027-11-07: clocks fall back 02:00 EDT -> 01:00 EST, so 01:30 happens twice.
    grid = ShiftGrid(rotation(4, timezone="America/New_York", shift={"length": "1d", "handoff_time": "01:30"}))
    before = slot_starting_on(grid, date(2027, 11, 6))
    on_day = slot_starting_on(grid, date(2027, 11, 7))
    assert on_day.start.astimezone(grid.tz).isoformat() == "2027-11-07T01:30:00-04:00"  # the first (EDT) 01:30
    assert on_day.start.astimezone(UTC) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    assert hours(before) == 24
    assert hours(on_day) == 25
    assert before.end == on_day.start


def test_new_york_nonexistent_handoff_moves_to_next_valid_instant():
    # 2027-03-14: clocks spring forward 02:00 EST -> 03:00 EDT, so 02:30 does not exist.
    grid = ShiftGrid(rotation(4, timezone="America/New_York", shift={"length": "1d", "handoff_time": "02:30"}))
    before = slot_starting_on(grid, date(2027, 3, 13))
    on_day = slot_starting_on(grid, date(2027, 3, 14))
    assert on_day.start.astimezone(grid.tz).isoformat() == "2027-03-14T03:00:00-04:00"
    assert before.end == on_day.start
    assert hours(before) == 23.5
    assert hours(on_day) == 23.5  # 03:00 EDT to 02:30 EDT the next day
    assert on_day.end.astimezone(grid.tz).isoformat() == "2027-03-15T02:30:00-04:00"


def test_lord_howe_half_hour_dst():
    # Lord Howe moves its clocks by 30 minutes: 2027-04-04 02:00 -> 01:30, 2027-10-03 02:00 -> 02:30.
    grid = ShiftGrid(rotation(4, timezone="Australia/Lord_Howe"))
    assert hours(slot_starting_on(grid, date(2027, 4, 3))) == 24.5
    assert hours(slot_starting_on(grid, date(2027, 10, 2))) == 23.5
    tz = grid.tz
    assert resolve_wall_time(datetime(2027, 10, 3, 2, 15), tz).isoformat() == "2027-10-03T02:30:00+11:00"
    assert resolve_wall_time(datetime(2027, 4, 4, 1, 45), tz).isoformat() == "2027-04-04T01:45:00+11:00"
    missing = ShiftGrid(rotation(4, timezone="Australia/Lord_Howe", shift={"length": "1d", "handoff_time": "02:15"}))
    slot = slot_starting_on(missing, date(2027, 10, 3))
    assert slot.start.astimezone(tz).isoformat() == "2027-10-03T02:30:00+11:00"
    assert hours(slot_starting_on(missing, date(2027, 10, 2))) == 23.75


def test_twelve_hour_shifts_hand_off_at_both_wall_clock_times():
    grid = ShiftGrid(rotation(4, shift={"length": "12h", "handoff_time": "10:00"}))
    slots = grid.slots(to_aware(date(2027, 3, 27), grid.tz), to_aware(date(2027, 3, 29), grid.tz))
    assert [s.start.astimezone(grid.tz).strftime("%d %H:%M") for s in slots] == ["26 22:00", "27 10:00", "27 22:00", "28 10:00", "28 22:00"]
    assert [hours(s) for s in slots] == [12, 12, 11, 12, 12]


def test_planned_shifts_are_aware_contiguous_and_in_rotation_zone():
    rot = rotation(4, timezone="America/New_York", shift={"length": "1d", "handoff_time": "01:30"})
    result = plan(rot, date(2027, 11, 1), date(2027, 11, 14))
    primaries = result.role_shifts()
    assert all(s.start.tzinfo is not None and s.end.tzinfo is not None for s in primaries)
    assert all(a.end == b.start for a, b in zip(primaries, primaries[1:]))
    assert sum(s.hours for s in primaries) == pytest.approx((primaries[-1].end - primaries[0].start).total_seconds() / 3600)
