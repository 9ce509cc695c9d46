"""Why does this person have this shift? Structured explanation plus a human-readable rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Sequence

from bot.rotations.domain.config import RotationConfig, zone
from bot.rotations.domain.engine import plan, plan_start_for
from bot.rotations.domain.numbers import signed
from bot.rotations.domain.models import BurdenEvent, Decision, Override, ServedShift, Shift, Swap, Violation
from bot.rotations.domain.timeline import ShiftGrid, to_aware


@dataclass
class Explanation:
    """Decisions for the shift(s) covering `at` (one per role), in UTC; rendered in `timezone`."""

    rotation: str
    timezone: str
    at: datetime
    decisions: list[Decision]
    violations: list[Violation] = field(default_factory=list)
    planner: str = "greedy"  # which planner produced the plan (see `Plan.planner`)

    def as_dict(self) -> dict:
        tz = zone(self.timezone)
        return {
            "rotation": self.rotation,
            "planner": self.planner,
            "timezone": self.timezone,
            "at": self.at.astimezone(tz).isoformat(),
            "shifts": [
                {
                    "role": d.role,
                    "user": d.user,
                    "start": d.start.astimezone(tz).isoformat(),
                    "end": d.end.astimezone(tz).isoformat(),
                    "source": d.source,
                    "note": d.note,
                    "candidates": [c.as_dict() for c in d.candidates],
                }
                for d in self.decisions
            ],
            "violations": [v.as_dict(tz) for v in self.violations],
        }

    def render(self) -> str:
        """Plain text for Slack or a terminal."""
        tz = zone(self.timezone)
        if not self.decisions:
            return f"{self.rotation}: no shift covers {self.at.astimezone(tz).isoformat()}."
        lines: list[str] = []
        for d in self.decisions:
            chosen = next((c for c in d.candidates if c.user == d.user), None)
            who = chosen.name if chosen else d.user
            start, end = d.start.astimezone(tz), d.end.astimezone(tz)
            lines.append(f"{self.rotation} {d.role} {start:%Y-%m-%d %H:%M %Z} to {end:%Y-%m-%d %H:%M %Z}: {who} ({d.user})")
            if d.source != "planned":
                lines.append(f"  {d.note}")
            elif d.note:
                lines.append(f"  {d.note}")
            elif chosen:
                lines.append(
                    f"  {who} had carried {chosen.burden:.2f} against a fair share of {chosen.share:.2f} "
                    f"(deficit {signed(chosen.deficit)}): the largest deficit among eligible members"
                    + (f"; {'; '.join(chosen.reasons)}" if chosen.reasons else "")
                )
            for c in d.candidates:
                if c.user == d.user:
                    continue
                figures = f"burden {c.burden:.2f}, share {c.share:.2f}"
                if c.status == "excluded":
                    lines.append(f"  - {c.name} ({c.user}) excluded: {'; '.join(c.reasons)} [{figures}]")
                elif d.source == "planned":
                    lines.append(f"  - {c.name} ({c.user}) not chosen: {'; '.join(c.reasons)} [{figures}]")
        for v in self.violations:
            lines.append(f"  ! violation: {v.message}")
        lines.append(f"  (planned by: {self.planner})")
        return "\n".join(lines)


def explain(
    rotation: RotationConfig,
    at: datetime,
    *,
    start: date | datetime | None = None,
    history: Sequence[ServedShift | Shift] = (),
    frozen: Sequence[Shift] = (),
    overrides: Sequence[Override] = (),
    swaps: Sequence[Swap] = (),
    extra_burden: Sequence[BurdenEvent] = (),
    previous: Sequence[Shift] = (),
) -> Explanation:
    """Explain who is on call at `at` (naive = rotation's wall clock) and why, by re-running the planner.

    `start` is the planning origin (default: the rotation's `start:` or four weeks before `at`); pass the
    same inputs that produced the published schedule so the figures match.
    """
    at = to_aware(at, rotation.zone)
    origin = start if start is not None else plan_start_for(rotation, at.astimezone(rotation.zone))
    slot = ShiftGrid(rotation).slot(ShiftGrid(rotation).index_at(at))
    result = plan(
        rotation, origin, slot.end, history=history, frozen=frozen, overrides=overrides, swaps=swaps,
        extra_burden=extra_burden, previous=previous, explain_at=at,
    )
    decisions = [d for d in result.decisions if d.start <= at < d.end] or result.decisions
    violations = [v for v in result.violations if v.start <= at < v.end]
    return Explanation(rotation.name, rotation.timezone, at, decisions, violations, result.planner)
