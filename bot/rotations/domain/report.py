"""Fairness report: per member burden vs fair share, night/weekend/holiday hours, and the maximum deviation."""

from __future__ import annotations

from dataclasses import dataclass

from bot.rotations.domain.engine import Plan
from bot.rotations.domain.numbers import rounded, signed


@dataclass(frozen=True)
class MemberFairness:
    user: str
    name: str
    fte: float
    burden: float
    share: float
    primary_shifts: int
    secondary_shifts: int
    hours: float
    night_hours: float
    weekend_hours: float
    holiday_hours: float

    @property
    def deviation(self) -> float:
        """Positive: carried more than the fair share."""
        return self.burden - self.share

    def as_dict(self) -> dict:
        return {
            "burden": rounded(self.burden, 4),
            "share": rounded(self.share, 4),
            "deviation": rounded(self.deviation, 4),
            "name": self.name,
            "fte": self.fte,
            "primary_shifts": self.primary_shifts,
            "secondary_shifts": self.secondary_shifts,
            "hours": rounded(self.hours, 2),
            "night_hours": rounded(self.night_hours, 2),
            "weekend_hours": rounded(self.weekend_hours, 2),
            "holiday_hours": rounded(self.holiday_hours, 2),
        }


@dataclass(frozen=True)
class FairnessReport:
    rotation: str
    members: list[MemberFairness]
    max_dev: float  # max |burden - share| in burden units
    heaviest_shift: float  # weight of the heaviest single primary shift (the natural unit of unfairness)
    planner: str = "greedy"  # which planner produced the plan (see `Plan.planner`)

    @property
    def max_dev_shifts(self) -> float:
        """max_dev in units of the heaviest single shift (<= 1.0 means nobody is more than one shift off)."""
        return self.max_dev / self.heaviest_shift if self.heaviest_shift > 0 else 0.0

    def as_dict(self) -> dict:
        return {
            "max_dev": rounded(self.max_dev, 4),
            "max_dev_shifts": rounded(self.max_dev_shifts, 4),
            "heaviest_shift": rounded(self.heaviest_shift, 4),
            "planner": self.planner,
            "per_user": {m.user: m.as_dict() for m in self.members},
        }

    @property
    def furthest(self) -> MemberFairness | None:
        """The member whose |deviation| is the max deviation (the row the footer talks about)."""
        return max(self.members, key=lambda m: abs(m.deviation), default=None)

    def max_dev_sentence(self, digits: int) -> str:
        """"max deviation: 0.55 (Cat, below share; 0.25 of the heaviest shift)", in the table's own rounding."""
        who = self.furthest
        if who is None:
            return "max deviation: none (no members)"
        size = rounded(abs(who.deviation), digits)
        where = "at share" if size == 0 else ("above share" if who.deviation > 0 else "below share")
        return (f"max deviation: {size:.{digits}f} ({who.name}, {where}; "
                f"{rounded(self.max_dev_shifts, 2):.2f} of the heaviest shift)")

    def render(self) -> str:
        """Aligned plain-text table."""
        header = ("user", "name", "fte", "burden", "share", "dev", "shifts", "night h", "weekend h", "holiday h")
        rows = [header] + [
            (m.user, m.name, f"{m.fte:g}", f"{m.burden:.2f}", f"{m.share:.2f}", signed(m.deviation),
             f"{m.primary_shifts}+{m.secondary_shifts}", f"{m.night_hours:.1f}", f"{m.weekend_hours:.1f}",
             f"{m.holiday_hours:.1f}")
            for m in self.members
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
        lines.append(f"{self.max_dev_sentence(2)}; planner: {self.planner}")
        return "\n".join(lines)


def fairness_report(result: Plan) -> FairnessReport:
    """Fairness of a plan's whole ledger (history + frozen + planned) up to the plan's end."""
    members = []
    for member in result.rotation.members:
        line = result.ledger[member.user]
        members.append(MemberFairness(
            user=member.user,
            name=member.display,
            fte=member.fte,
            burden=line.burden,
            share=line.share,
            primary_shifts=line.primary_shifts,
            secondary_shifts=line.secondary_shifts,
            hours=line.hours.hours,
            night_hours=line.hours.night_hours,
            weekend_hours=line.hours.weekend_hours,
            holiday_hours=line.hours.holiday_hours,
        ))
    max_dev = max((abs(m.deviation) for m in members), default=0.0)
    return FairnessReport(result.rotation.name, members, max_dev, result.heaviest_shift, result.planner)
