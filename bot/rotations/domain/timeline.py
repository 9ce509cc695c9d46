"""Wall-clock shift boundaries that stay contiguous across DST changes.

Boundaries are defined in the rotation's *wall clock*: boundary k is `anchor + k * step` as a naive local
datetime, resolved to an instant. Because consecutive boundaries are resolved with the same rule, shift
k ends exactly where shift k+1 starts: a day shift is 23 h or 25 h long across a DST change, never a gap
or overlap.

Resolution rule for wall-clock times that do not map to exactly one instant:
- ambiguous (clocks fall back, the time happens twice): the first occurrence (fold=0);
- non-existent (clocks spring forward over it): the next valid instant, i.e. the moment of the jump.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.rotations.domain.config import RotationConfig

UTC = timezone.utc
# Anchor used when a rotation has no `start:`; a Monday, far enough back to precede any real schedule.
DEFAULT_ANCHOR = date(2024, 1, 1)


def resolve_wall_time(naive: datetime, tz: ZoneInfo) -> datetime:
    """Turn a naive local wall-clock time into an aware datetime in `tz` (see module docstring for the rule)."""
    first = naive.replace(tzinfo=tz, fold=0)
    as_utc = first.astimezone(UTC)
    back = as_utc.astimezone(tz)
    if back.replace(tzinfo=None, fold=0) == naive:
        return back  # exists; for ambiguous times fold=0 is the first occurrence
    # In a gap. fold=0 reads the time with the pre-jump offset (the later instant), fold=1 with the
    # post-jump offset (the earlier one); the jump lies between them. Find it to the second.
    lo = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = as_utc
    post_offset = hi.astimezone(tz).utcoffset()
    while (hi - lo) > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            break
        if mid.astimezone(tz).utcoffset() == post_offset:
            hi = mid
        else:
            lo = mid
    return hi.astimezone(tz)


def to_aware(value: date | datetime, tz: ZoneInfo) -> datetime:
    """Instant in UTC. A date means local midnight in `tz`; a naive datetime is wall clock in `tz`.

    Everything internal is UTC: Python compares and subtracts two datetimes sharing one tzinfo by their
    wall-clock fields, which is wrong across a DST change; UTC has no such trap.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return resolve_wall_time(value, tz).astimezone(UTC)
        return value.astimezone(UTC)
    return resolve_wall_time(datetime.combine(value, time()), tz).astimezone(UTC)


@dataclass(frozen=True)
class Slot:
    """One shift position on the rotation's grid: [start, end) in UTC with a stable integer index."""

    index: int
    start: datetime
    end: datetime

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


class ShiftGrid:
    """The infinite sequence of shift boundaries of one rotation."""

    def __init__(self, rotation: RotationConfig):
        self.tz = rotation.zone
        self.step = rotation.shift.step
        anchor_day = rotation.start or DEFAULT_ANCHOR
        if rotation.shift.is_weekly:
            # First handoff weekday on or after the anchor date.
            anchor_day += timedelta(days=(rotation.shift.weekday - anchor_day.weekday()) % 7)
        self.anchor = datetime.combine(anchor_day, rotation.shift.handoff)
        self._cache: dict[int, datetime] = {}

    def boundary(self, k: int) -> datetime:
        """Start of slot k (end of slot k-1), in UTC."""
        hit = self._cache.get(k)
        if hit is None:
            hit = resolve_wall_time(self.anchor + k * self.step, self.tz).astimezone(UTC)
            self._cache[k] = hit
        return hit

    def slot(self, k: int) -> Slot:
        return Slot(k, self.boundary(k), self.boundary(k + 1))

    def index_at(self, instant: datetime) -> int:
        """Index of the slot containing `instant` (boundary(k) <= instant < boundary(k+1))."""
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        local = instant.astimezone(self.tz).replace(tzinfo=None)
        k = (local - self.anchor) // self.step
        while self.boundary(k) > instant:
            k -= 1
        while self.boundary(k + 1) <= instant:
            k += 1
        return k

    def slots(self, start: datetime, end: datetime) -> list[Slot]:
        """All slots overlapping [start, end)."""
        if end <= start:
            return []
        first, last = self.index_at(start), self.index_at(end - timedelta(microseconds=1))
        return [self.slot(k) for k in range(first, last + 1)]


def subtract(interval: tuple[datetime, datetime], cuts: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Parts of `interval` not covered by any of `cuts` (all half-open)."""
    pieces = [interval]
    for cut_start, cut_end in cuts:
        next_pieces = []
        for start, end in pieces:
            if cut_end <= start or cut_start >= end:
                next_pieces.append((start, end))
                continue
            if start < cut_start:
                next_pieces.append((start, cut_start))
            if cut_end < end:
                next_pieces.append((cut_end, end))
        pieces = next_pieces
    return pieces


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end
