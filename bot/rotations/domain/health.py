"""On-call health per person over a period: shifts, nights, weekends, holidays, longest streak, burden vs share.

Pure: computed from a `Plan` (the shifts and the ledger) and drawn with matplotlib; no Slack or database. Page
counts by business / off-hours / sleep hours need the stored pages and are not part of this report yet.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from bot.rotations.domain.burden import BurdenCalculator
from bot.rotations.domain.engine import Plan
from bot.rotations.domain.models import PRIMARY
from bot.rotations.domain.numbers import rounded

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CHART_SIZE = (1000, 500)  # pixels of the PNG chart (width, height)
_DPI = 100


def parse_period(text: str) -> tuple[date, date]:
    """"2027-Q1" or "2027-03" into [first day, day after the last). Raises ValueError with the accepted forms."""
    value = str(text).strip()
    if match := _QUARTER.match(value):
        year, quarter = int(match.group(1)), int(match.group(2))
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return start, end
    if match := _MONTH.match(value):
        year, month = int(match.group(1)), int(match.group(2))
        return date(year, month, 1), (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1))
    raise ValueError(f"{text!r} is not a period; use a quarter like 2027-Q1 or a month like 2027-03")


@dataclass
class PersonHealth:
    user: str
    name: str
    shifts: int
    secondary_shifts: int
    hours: float
    night_hours: float
    weekend_hours: float
    holiday_hours: float
    longest_streak_days: int  # most consecutive calendar days (rotation's zone) with an on-call hour
    burden: float  # since the rotation's start, to the period's end
    share: float

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("hours", "night_hours", "weekend_hours", "holiday_hours", "burden", "share"):
            data[key] = rounded(data[key], 2)
        return data


@dataclass
class HealthReport:
    rotation: str
    period: str
    people: list[PersonHealth]
    planner: str

    def as_dict(self) -> dict:
        return {"rotation": self.rotation, "period": self.period, "planner": self.planner,
                "people": [p.as_dict() for p in self.people]}

    def render(self) -> str:
        header = ("name", "shifts", "night h", "weekend h", "holiday h", "streak d", "burden", "share")
        rows = [header] + [
            (p.name, f"{p.shifts}+{p.secondary_shifts}", f"{p.night_hours:.1f}", f"{p.weekend_hours:.1f}",
             f"{p.holiday_hours:.1f}", str(p.longest_streak_days), f"{p.burden:.2f}", f"{p.share:.2f}")
            for p in self.people
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [f"{self.rotation} on-call health, {self.period}"]
        lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
        return "\n".join(lines)

    def chart_values(self) -> dict[str, list[float]]:
        """The bars of `chart_png` per series, person by person (rounded as in `as_dict`)."""
        rows = [p.as_dict() for p in self.people]
        return {"night h": [r["night_hours"] for r in rows], "weekend h": [r["weekend_hours"] for r in rows],
                "holiday h": [r["holiday_hours"] for r in rows], "burden": [r["burden"] for r in rows],
                "fair share": [r["share"] for r in rows]}

    def chart_png(self, path: str | Path) -> Path:
        """Bar chart: night, weekend and holiday hours per person, and burden against fair share."""
        import matplotlib

        matplotlib.use("Agg")  # files only; never a window
        from matplotlib import pyplot as plt

        names = [p.name for p in self.people]
        xs = range(len(names))
        fig, (hours, fairness) = plt.subplots(1, 2, figsize=(CHART_SIZE[0] / _DPI, CHART_SIZE[1] / _DPI), dpi=_DPI)
        width = 0.27
        values = self.chart_values()
        for offset, label in enumerate(("night h", "weekend h", "holiday h")):
            hours.bar([x + (offset - 1) * width for x in xs], values[label], width, label=label)
        hours.set_xticks(list(xs), names, rotation=45, ha="right")
        hours.set_title(f"Hours, {self.period}")
        hours.legend()
        fairness.bar([x - 0.2 for x in xs], values["burden"], 0.4, label="burden")
        fairness.bar([x + 0.2 for x in xs], values["fair share"], 0.4, label="fair share")
        fairness.set_xticks(list(xs), names, rotation=45, ha="right")
        fairness.set_title("Burden vs fair share (since start)")
        fairness.legend()
        fig.tight_layout()
        target = Path(path)
        fig.savefig(target, format="png", dpi=_DPI)
        plt.close(fig)
        return target


def health_report(result: Plan, start: date, end: date, period: str) -> HealthReport:
    """Health per member for the shifts of `result` that start in [start, end) (dates in the rotation's zone)."""
    rotation = result.rotation
    tz = rotation.zone
    calc = BurdenCalculator(rotation.rules)
    people = []
    for member in rotation.members:
        mine = [s for s in result.shifts if s.user == member.user
                and start <= s.start.astimezone(tz).date() < end]
        totals = [calc.for_member(rotation, member, s.start, s.end) for s in mine]
        days: set[date] = set()
        for s in mine:
            day, last = s.start.astimezone(tz).date(), (s.end - timedelta(microseconds=1)).astimezone(tz).date()
            while day <= last:
                days.add(day)
                day += timedelta(days=1)
        line = result.ledger[member.user]
        people.append(PersonHealth(
            user=member.user, name=member.display,
            shifts=sum(1 for s in mine if s.role == PRIMARY),
            secondary_shifts=sum(1 for s in mine if s.role != PRIMARY),
            hours=sum(b.hours for b in totals), night_hours=sum(b.night_hours for b in totals),
            weekend_hours=sum(b.weekend_hours for b in totals), holiday_hours=sum(b.holiday_hours for b in totals),
            longest_streak_days=_longest_run(days), burden=line.burden, share=line.share,
        ))
    return HealthReport(rotation.name, period, people, result.planner)


def _longest_run(days: set[date]) -> int:
    best = 0
    for day in days:
        if day - timedelta(days=1) in days:
            continue  # not the first day of a run
        length = 1
        while day + timedelta(days=length) in days:
            length += 1
        best = max(best, length)
    return best
