"""Fairness weight of a page, in the receiving member's own time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.paging.domain.burden import BurdenWeights, is_night, page_burden

UTC = timezone.utc


def test_weekday_daytime_is_base():
    # Tuesday 2024-03-05 14:00 in Berlin (13:00 UTC).
    assert page_burden(datetime(2024, 3, 5, 13, 0, tzinfo=UTC), "Europe/Berlin") == 0.25


def test_night_is_measured_in_member_zone():
    at = datetime(2024, 3, 5, 2, 0, tzinfo=UTC)  # Tuesday 02:00 UTC
    assert page_burden(at, "Europe/Berlin") == 0.5  # 03:00 local: night
    assert page_burden(at, "America/New_York") == 0.25  # Monday 21:00 local: evening, weekday


def test_night_window_edges():
    berlin = ZoneInfo("Europe/Berlin")
    assert page_burden(datetime(2024, 3, 5, 21, 59, tzinfo=berlin), berlin) == 0.25
    assert page_burden(datetime(2024, 3, 5, 22, 0, tzinfo=berlin), berlin) == 0.5
    assert page_burden(datetime(2024, 3, 6, 6, 59, tzinfo=berlin), berlin) == 0.5
    assert page_burden(datetime(2024, 3, 6, 7, 0, tzinfo=berlin), berlin) == 0.25


def test_weekend_and_weekend_night_compound():
    # Saturday 2024-03-09 12:00 in Tokyo = 03:00 UTC.
    assert page_burden(datetime(2024, 3, 9, 3, 0, tzinfo=UTC), "Asia/Tokyo") == 0.5
    # Sunday 02:30 Tokyo (Saturday 17:30 UTC): weekend night.
    assert page_burden(datetime(2024, 3, 9, 17, 30, tzinfo=UTC), "Asia/Tokyo") == 1.0
    # The same instant is Saturday 17:30 in London: weekend, daytime.
    assert page_burden(datetime(2024, 3, 9, 17, 30, tzinfo=UTC), "Europe/London") == 0.5


def test_weekend_boundary_depends_on_zone():
    at = datetime(2024, 3, 8, 23, 30, tzinfo=UTC)  # Friday 23:30 UTC
    assert page_burden(at, "UTC") == 0.5  # Friday night, weekday
    assert page_burden(at, "Asia/Kolkata") == 1.0  # Saturday 05:00: weekend night
    assert page_burden(at, "America/Los_Angeles") == 0.25  # Friday 15:30


def test_holidays_count_as_weekend():
    at = datetime(2024, 12, 25, 12, 0, tzinfo=UTC)  # a Wednesday
    assert page_burden(at, "Europe/London") == 0.25
    assert page_burden(at, "Europe/London", holidays={date(2024, 12, 25)}) == 0.5


def test_custom_weights():
    weights = BurdenWeights(base=1.0, night_multiplier=3.0, weekend_multiplier=1.5, night_start=time(0), night_end=time(6))
    sunday_3am = datetime(2024, 3, 10, 3, 0, tzinfo=UTC)
    assert page_burden(sunday_3am, "UTC", weights) == 4.5
    assert page_burden(datetime(2024, 3, 10, 23, 0, tzinfo=UTC), "UTC", weights) == 1.5  # not night here
    assert is_night(time(5, 59), weights) and not is_night(time(6), weights)


def test_dst_change_uses_local_wall_clock():
    # 2024-03-31: Berlin switches to CEST at 02:00. 05:30 UTC = 07:30 CEST (day), was 06:30 CET the day before.
    assert page_burden(datetime(2024, 3, 30, 5, 30, tzinfo=UTC), "Europe/Berlin") == 1.0  # Sat 06:30: weekend night
    assert page_burden(datetime(2024, 3, 31, 5, 30, tzinfo=UTC), "Europe/Berlin") == 0.5  # Sun 07:30: weekend day


def test_rejects_naive_and_unknown_zone():
    with pytest.raises(ValueError, match="tz-aware"):
        page_burden(datetime(2024, 3, 5, 12, 0), "UTC")
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        page_burden(datetime(2024, 3, 5, 12, 0, tzinfo=UTC), "Mars/Olympus")
