"""How much a page "costs" the person who receives it, for fair rotations.

A page at 03:00 on a Sunday hurts more than one at 14:00 on a Tuesday, so the rotation scheduler weighs pages
by when they land *in the member's own time zone* (a 02:00 UTC page is evening in New York, night in Berlin).
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class BurdenWeights:
    """The numbers behind `page_burden`.

    base: weight of a page at a working-hours weekday instant.
    night_multiplier: applied when the member-local time is in [night_start, 24:00) or [00:00, night_end).
    weekend_multiplier: applied on `weekend_days` (Monday=0 ... Sunday=6) and on holidays passed by the caller.
    The multipliers compound: a Saturday 03:00 page weighs base x 2 x 2 = 1.0 with the defaults.
    """

    base: float = 0.25
    night_multiplier: float = 2.0
    weekend_multiplier: float = 2.0
    night_start: time = time(22, 0)
    night_end: time = time(7, 0)
    weekend_days: frozenset[int] = field(default_factory=lambda: frozenset({5, 6}))


DEFAULT_WEIGHTS = BurdenWeights()


def _zone(zone: str | tzinfo) -> tzinfo:
    if isinstance(zone, tzinfo):
        return zone
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r} (use an IANA name like Europe/Berlin)") from None


def is_night(local: time, weights: BurdenWeights = DEFAULT_WEIGHTS) -> bool:
    """True when a wall-clock time is in the night window (which may wrap past midnight)."""
    start, end = weights.night_start, weights.night_end
    if start <= end:  # a window that does not cross midnight, e.g. 00:00-06:00
        return start <= local < end
    return local >= start or local < end


def page_burden(
    at: datetime,
    zone: str | tzinfo,
    weights: BurdenWeights = DEFAULT_WEIGHTS,
    *,
    holidays: Container[date] = (),
) -> float:
    """Fairness weight of a page received at instant `at` by a member living in `zone`.

    `at` must be tz-aware (a naive time is ambiguous across zones, so it is refused). `holidays` holds the
    member's local dates that count like weekend days.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("page_burden needs a tz-aware datetime")
    local = at.astimezone(_zone(zone))
    weight = weights.base
    if is_night(local.time().replace(tzinfo=None), weights):
        weight *= weights.night_multiplier
    if local.weekday() in weights.weekend_days or local.date() in holidays:
        weight *= weights.weekend_multiplier
    return weight
