"""Burden of on-call time for one member.

Every hour on call costs `base`; `night` is added for hours inside the night window in the member's own
zone, `weekend` for hours on the member's local Saturday/Sunday, `holiday` for hours on a public holiday of
the member's country. A shift's weight is the sum over its hours divided by 24, so a plain weekday 24 h
shift weighs 1.0.

The computation is exact to the second: time is cut at every local midnight and night-window edge (in the
member's zone, so 30- and 45-minute offsets such as India or Lord Howe are handled), and each piece is
weighted by its length. Nothing is rounded to whole hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from bot.rotations.domain.config import MemberConfig, RotationConfig, RulesConfig, zone
from bot.rotations.domain.timeline import UTC, resolve_wall_time


@dataclass(frozen=True)
class Burden:
    """Hours by kind and the resulting weight (a plain weekday 24 h = 1.0)."""

    hours: float = 0.0
    night_hours: float = 0.0
    weekend_hours: float = 0.0
    holiday_hours: float = 0.0
    weight: float = 0.0

    def __add__(self, other: "Burden") -> "Burden":
        return Burden(
            self.hours + other.hours,
            self.night_hours + other.night_hours,
            self.weekend_hours + other.weekend_hours,
            self.holiday_hours + other.holiday_hours,
            self.weight + other.weight,
        )

    def scaled(self, factor: float) -> "Burden":
        """Same hours, weight multiplied (used for secondary shifts)."""
        return Burden(self.hours, self.night_hours, self.weekend_hours, self.holiday_hours, self.weight * factor)


@lru_cache(maxsize=4096)
def holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """Public holidays of a country (and optional subdivision) in one year."""
    import holidays

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


def _overlap_seconds(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> float:
    start, end = max(a_start, b_start), min(a_end, b_end)
    return max(0.0, (end - start).total_seconds())


class BurdenCalculator:
    """Computes (and caches) the burden of an interval for a member profile (zone, country, subdivision)."""

    def __init__(self, rules: RulesConfig):
        self.weights = rules.weights
        self.night_start, self.night_end = rules.night_window
        self._cache: dict[tuple, Burden] = {}

    @classmethod
    def for_rotation(cls, rotation: RotationConfig) -> "BurdenCalculator":
        return cls(rotation.rules)

    def for_member(self, rotation: RotationConfig, member: MemberConfig, start: datetime, end: datetime) -> Burden:
        return self.compute(member.timezone or rotation.timezone, member.country, member.subdivision, start, end)

    def compute(self, tz_name: str, country: str | None, subdivision: str | None, start: datetime, end: datetime) -> Burden:
        """Burden of [start, end) for someone living in `tz_name` with holidays of `country`."""
        key = (tz_name, country, subdivision, start, end)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._compute(tz_name, country, subdivision, start.astimezone(UTC), end.astimezone(UTC))
            self._cache[key] = hit
        return hit

    def _night_parts(self, day: date) -> list[tuple[time | None, time | None]]:
        """Night window of a local day as wall-clock (start, end) pairs; None means midnight at that edge."""
        if self.night_start > self.night_end:  # crosses midnight, e.g. 22:00-07:00
            return [(None, self.night_end), (self.night_start, None)]
        return [(self.night_start, self.night_end)]

    def _compute(self, tz_name: str, country: str | None, subdivision: str | None, start: datetime, end: datetime) -> Burden:
        if end <= start:
            return Burden()
        tz = zone(tz_name)
        w = self.weights
        total = night = weekend = holiday = 0.0
        weighted = 0.0
        day = start.astimezone(tz).date()
        last_day = end.astimezone(tz).date()
        while day <= last_day:
            # All instants in UTC: same-tzinfo arithmetic in Python ignores DST offsets.
            day_start = resolve_wall_time(datetime.combine(day, time()), tz).astimezone(UTC)
            day_end = resolve_wall_time(datetime.combine(day + timedelta(days=1), time()), tz).astimezone(UTC)
            seconds = _overlap_seconds(start, end, day_start, day_end)
            if seconds > 0:
                night_seconds = 0.0
                for part_start, part_end in self._night_parts(day):
                    ns = day_start if part_start is None else resolve_wall_time(datetime.combine(day, part_start), tz).astimezone(UTC)
                    ne = day_end if part_end is None else resolve_wall_time(datetime.combine(day, part_end), tz).astimezone(UTC)
                    night_seconds += _overlap_seconds(start, end, ns, ne)
                is_weekend = day.weekday() >= 5
                is_holiday = bool(country) and day in holiday_dates(country, subdivision, day.year)
                hours, night_hours = seconds / 3600, night_seconds / 3600
                total += hours
                night += night_hours
                weekend += hours if is_weekend else 0.0
                holiday += hours if is_holiday else 0.0
                per_hour = w.base + (w.weekend if is_weekend else 0.0) + (w.holiday if is_holiday else 0.0)
                weighted += hours * per_hour + night_hours * w.night
            day += timedelta(days=1)
        return Burden(total, night, weekend, holiday, weighted / 24)
