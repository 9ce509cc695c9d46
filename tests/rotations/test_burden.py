"""Burden weights: night in the member's own zone, weekend, public holidays of the member's country."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.rotations.domain.burden import BurdenCalculator
from bot.rotations.domain.config import RulesConfig

UTC = timezone.utc


@pytest.fixture()
def calc() -> BurdenCalculator:
    return BurdenCalculator(RulesConfig())  # base 1, night +0.5, weekend +1, holiday +2, night 22:00-07:00


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_plain_weekday_daytime_weighs_one_per_24_hours(calc):
    b = calc.compute("Europe/London", None, None, at(2027, 3, 2, 9), at(2027, 3, 2, 21))
    assert b.hours == 12 and b.night_hours == 0
    assert b.weight == pytest.approx(12 / 24)


def test_full_weekday_includes_nine_night_hours(calc):
    b = calc.compute("Europe/London", None, None, at(2027, 3, 2), at(2027, 3, 3))
    assert b.night_hours == 9
    assert b.weight == pytest.approx((24 + 9 * 0.5) / 24)


def test_night_is_in_the_members_own_zone(calc):
    # 03:00-04:00 UTC in March: London 03:00 (night), New York 22:00 (night), Tokyo 12:00 (day).
    window = (at(2027, 3, 2, 3), at(2027, 3, 2, 4))
    assert calc.compute("Europe/London", None, None, *window).night_hours == 1
    assert calc.compute("America/New_York", None, None, *window).night_hours == 1
    assert calc.compute("Asia/Tokyo", None, None, *window).night_hours == 0
    # 12:00-13:00 UTC: New York 07:00-08:00, just after its night.
    assert calc.compute("America/New_York", None, None, at(2027, 3, 2, 12), at(2027, 3, 2, 13)).night_hours == 0


def test_half_hour_offsets_are_computed_exactly(calc):
    # 01:00-02:00 UTC is 06:30-07:30 in India: half of that hour is night.
    b = calc.compute("Asia/Kolkata", None, None, at(2027, 3, 2, 1), at(2027, 3, 2, 2))
    assert b.night_hours == pytest.approx(0.5)
    assert b.weight == pytest.approx((1 + 0.5 * 0.5) / 24)
    # Lord Howe in March is UTC+11: 10:30-11:30 UTC is 21:30-22:30 local, half night.
    lh = calc.compute("Australia/Lord_Howe", None, None, at(2027, 3, 2, 10, 30), at(2027, 3, 2, 11, 30))
    assert lh.night_hours == pytest.approx(0.5)


def test_weekend_is_the_members_local_saturday_and_sunday(calc):
    window = (at(2027, 3, 5, 23), at(2027, 3, 6, 1))  # Friday 23:00 to Saturday 01:00 UTC
    assert calc.compute("Europe/London", None, None, *window).weekend_hours == 1
    assert calc.compute("Asia/Kolkata", None, None, *window).weekend_hours == 2  # already Saturday there
    assert calc.compute("America/New_York", None, None, *window).weekend_hours == 0  # still Friday


def test_holiday_only_counts_in_the_members_country(calc):
    thanksgiving = (at(2027, 11, 25, 15), at(2027, 11, 25, 17))  # 10:00-12:00 in New York
    us = calc.compute("America/New_York", "US", None, *thanksgiving)
    gb = calc.compute("America/New_York", "GB", None, *thanksgiving)
    assert us.holiday_hours == 2 and gb.holiday_hours == 0
    assert us.weight == pytest.approx(2 * (1 + 2) / 24)
    assert gb.weight == pytest.approx(2 / 24)
    may_day = calc.compute("Europe/London", "GB", None, at(2027, 5, 3, 12), at(2027, 5, 3, 13))
    assert may_day.holiday_hours == 1


def test_custom_weights_and_night_window():
    rules = RulesConfig(night="00:00-06:00", weights={"base": 2.0, "night": 1.0, "weekend": 0.0, "holiday": 0.0})
    b = BurdenCalculator(rules).compute("UTC", None, None, at(2027, 3, 6), at(2027, 3, 7))  # a Saturday
    assert b.night_hours == 6 and b.weekend_hours == 24
    assert b.weight == pytest.approx((24 * 2 + 6 * 1) / 24)
