"""Plain data exchanged with the engine: shifts in and out, ledger inputs, overrides, swaps, violations.

These are frozen dataclasses with no Slack or database dependency; storage code maps its rows to and from
them. Every datetime is timezone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from bot.rotations.domain.numbers import rounded

PRIMARY = "primary"
SECONDARY = "secondary"
ROLES = (PRIMARY, SECONDARY)


def _iso(value: datetime, tz: tzinfo | None = None) -> str:
    return value.astimezone(tz).isoformat() if tz is not None else value.isoformat()


@dataclass(frozen=True)
class Shift:
    """One person on call for one role over [start, end) (UTC; use `as_dict(tz)` to render locally).

    `weight` is the burden counted for `user` (a secondary shift is already scaled by
    `rules.secondary_weight`). `source` says where it came from: planned, frozen (published, kept
    verbatim), history (actually served), override (explicit cover). `slot` is the index on the
    rotation's shift grid (stable across re-plans), None for shifts that do not come from the grid.
    """

    rotation: str
    role: str
    user: str
    start: datetime
    end: datetime
    weight: float = 0.0
    source: str = "planned"
    slot: int | None = None

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def as_dict(self, tz: tzinfo | None = None) -> dict:
        """JSON-ready dict; times as ISO-8601 with offset, in `tz` if given (else UTC)."""
        return {
            "start": _iso(self.start, tz),
            "end": _iso(self.end, tz),
            "user": self.user,
            "weight": round(self.weight, 4),
            "role": self.role,
            "source": self.source,
            "hours": round(self.hours, 4),
        }


@dataclass(frozen=True)
class ServedShift:
    """A shift actually served (ledger history). `weight=None` means: compute it from the rules."""

    user: str
    start: datetime
    end: datetime
    role: str = PRIMARY
    weight: float | None = None


@dataclass(frozen=True)
class BurdenEvent:
    """Extra burden outside shifts, e.g. a page received at night."""

    user: str
    at: datetime
    weight: float
    reason: str = ""


@dataclass(frozen=True)
class Override:
    """`user` covers [start, end) for `role`; the shifts underneath are split around it."""

    user: str
    start: datetime
    end: datetime
    role: str = PRIMARY
    reason: str = ""


@dataclass(frozen=True)
class Swap:
    """Exchange the people on two published shifts of the same role (identified by their start instants)."""

    first_start: datetime
    second_start: datetime
    role: str = PRIMARY


@dataclass(frozen=True)
class Violation:
    """A hard constraint that could not be met (the engine picked the least-bad person instead of crashing)."""

    kind: str  # unavailable | rest | not_member | seniority | same_person | no_members
    user: str
    role: str
    start: datetime
    end: datetime
    message: str
    source: str = "planned"

    def as_dict(self, tz: tzinfo | None = None) -> dict:
        return {
            "kind": self.kind,
            "user": self.user,
            "role": self.role,
            "start": _iso(self.start, tz),
            "end": _iso(self.end, tz),
            "message": self.message,
            "source": self.source,
        }


@dataclass
class CandidateNote:
    """How one member fared when a shift was assigned (for explanations)."""

    user: str
    name: str
    burden: float
    share: float
    status: str  # chosen | excluded | not_chosen
    reasons: list[str] = field(default_factory=list)

    @property
    def deficit(self) -> float:
        """Positive: the member has done less than their fair share so far."""
        return self.share - self.burden

    def as_dict(self) -> dict:
        return {
            "user": self.user,
            "name": self.name,
            "burden": rounded(self.burden, 4),
            "share": rounded(self.share, 4),
            "deficit": rounded(self.deficit, 4),
            "status": self.status,
            "reasons": list(self.reasons),
        }


@dataclass
class Decision:
    """Why `user` got the `role` shift [start, end): the ledger before, and every member's status."""

    role: str
    user: str
    start: datetime
    end: datetime
    source: str
    candidates: list[CandidateNote] = field(default_factory=list)
    note: str = ""
