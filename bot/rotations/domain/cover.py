"""Who may cover someone's shifts (`/oncall cover`): the rotation's hard rules applied to one candidate, and the
order candidates are asked in. Pure: no Slack, no database.

The rules are the planner's hard constraints, in time rather than grid slots so that they also hold for the
partial shifts a cover can hand over: membership dates, time off, rest between shifts (`min_rest_shifts`,
`no_back_to_back`), `max_shifts_in_window` and `senior_in_every_pair`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from bot.rotations.domain.config import RotationConfig
from bot.rotations.domain.timeline import to_aware


@dataclass(frozen=True)
class Span:
    """A stretch of on-call time of one role; `partner` holds the other role then (pairs only)."""

    role: str
    start: datetime
    end: datetime
    partner: str | None = None


@dataclass(frozen=True)
class Candidate:
    user: str
    name: str
    burden: float
    share: float

    @property
    def deviation(self) -> float:
        return self.burden - self.share


def rest_shifts(rotation: RotationConfig) -> int:
    """Shifts of rest needed between two of one person's shifts (the planner's rule)."""
    return max(rotation.rules.min_rest_shifts, 1 if rotation.rules.no_back_to_back else 0)


def margin(rotation: RotationConfig) -> timedelta:
    """How far around the covered time a candidate's other shifts matter."""
    rule = rotation.rules.max_shifts_in_window
    window = rule.window_delta if rule else timedelta(0)
    return max(rotation.shift.step * (rest_shifts(rotation) + 1), window) + rotation.shift.step


def blocker(rotation: RotationConfig, user: str, pieces: Sequence[Span], held: Sequence[Span]) -> str | None:
    """Why `user` may not take `pieces`, given the shifts they already hold (`held`); None when they may."""
    member = rotation.member(user)
    if member is None:
        return "not in the rotation"
    tz, mz = rotation.zone, rotation.member_zone(member)
    for p in pieces:
        if (member.joined and p.start < to_aware(member.joined, tz)) or (member.left and p.end > to_aware(member.left, tz)):
            return "not on the rotation then"
    for item in rotation.unavailability:
        if item.user == user and any(to_aware(item.start, mz) < p.end and p.start < to_aware(item.end, mz)
                                     for p in pieces):
            return "away then"
    gap = rotation.shift.step * rest_shifts(rotation)
    for p in pieces:
        if any(h.start < p.end + gap and p.start - gap < h.end for h in held):
            return "would work back to back, against the rest rule" if gap else "already on call then"
    if _too_many(rotation, pieces, held):
        rule = rotation.rules.max_shifts_in_window
        return f"would have more than {rule.shifts} shifts in {rule.window}"
    if rotation.secondary and rotation.rules.senior_in_every_pair and not member.is_senior:
        for p in pieces:
            partner = rotation.member(p.partner) if p.partner else None
            if partner is None or not partner.is_senior:
                return "the pair would have no senior"
    return None


def _too_many(rotation: RotationConfig, pieces: Sequence[Span], held: Sequence[Span]) -> bool:
    rule = rotation.rules.max_shifts_in_window
    if rule is None:
        return False
    starts = sorted([*(p.start for p in pieces), *(h.start for h in held)])
    new = [p.start for p in pieces]
    window = rule.window_delta
    # Any window holding a new shift: the windows that start at one of the shifts are enough to check.
    return any(sum(1 for s in starts if a <= s < a + window) > rule.shifts
               for a in starts if any(a <= n < a + window for n in new))


def ranked(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Lowest burden relative to fair share first (so part-timers and newcomers are not asked first just for
    having fewer hours), then lowest burden, then a stable order."""
    return sorted(candidates, key=lambda c: (round(c.deviation, 6), round(c.burden, 6), c.user))
