"""Fairness audit: the vendor schedule as it would run (expanded by its own rules) against Firewatch's plan.

Both sides are weighed with the same rules (`bot.rotations.domain.burden`: nights, weekends and public holidays in
each person's own zone and country), over the same window, with the same overrides. MaxDev is the largest
gap between what someone carries and their fair share (by FTE), also given in units of the heaviest
Firewatch shift so that "1.0" means "one shift off".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.importers.domain import MappedSchedule
from bot.importers.expand import expand_schedule
from bot.rotations.domain.burden import Burden, BurdenCalculator
from bot.rotations.domain.config import RotationConfig
from bot.rotations.domain.engine import plan_window
from bot.rotations.domain.models import Override
from bot.rotations.domain.report import fairness_report


@dataclass(frozen=True)
class Load:
    user: str
    name: str
    burden: float
    share: float
    shifts: int
    hours: float
    night_hours: float
    weekend_hours: float
    holiday_hours: float

    @property
    def deviation(self) -> float:
        return self.burden - self.share


@dataclass(frozen=True)
class Side:
    label: str
    loads: list[Load]

    @property
    def max_dev(self) -> float:
        return max((abs(x.deviation) for x in self.loads), default=0.0)


@dataclass(frozen=True)
class Audit:
    schedule: str
    rotation: str
    start: datetime
    end: datetime
    old: Side
    new: Side
    unit: float  # heaviest single Firewatch shift, the unit MaxDev is also shown in

    def max_dev_shifts(self, side: Side) -> float:
        return side.max_dev / self.unit if self.unit > 0 else 0.0

    def as_dict(self) -> dict:
        def side(s: Side) -> dict:
            return {"max_dev": round(s.max_dev, 3), "max_dev_shifts": round(self.max_dev_shifts(s), 3),
                    "per_user": {x.user: {"name": x.name, "burden": round(x.burden, 3), "share": round(x.share, 3),
                                          "shifts": x.shifts, "night_hours": round(x.night_hours, 1),
                                          "weekend_hours": round(x.weekend_hours, 1),
                                          "holiday_hours": round(x.holiday_hours, 1)} for x in s.loads}}
        return {"schedule": self.schedule, "rotation": self.rotation, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "old": side(self.old), "new": side(self.new)}

    def render(self) -> str:
        header = ("person", "old burden", "new burden", "share", "old dev", "new dev", "old night h", "new night h",
                  "old wkend h", "new wkend h", "old hol h", "new hol h")
        new = {x.user: x for x in self.new.loads}
        rows = [header]
        for o in self.old.loads:
            n = new.get(o.user) or Load(o.user, o.name, 0, 0, 0, 0, 0, 0, 0)
            rows.append((o.name, f"{o.burden:.2f}", f"{n.burden:.2f}", f"{n.share:.2f}", f"{o.deviation:+.2f}",
                         f"{n.deviation:+.2f}", f"{o.night_hours:.0f}", f"{n.night_hours:.0f}", f"{o.weekend_hours:.0f}",
                         f"{n.weekend_hours:.0f}", f"{o.holiday_hours:.0f}", f"{n.holiday_hours:.0f}"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [f"audit of {self.schedule!r} -> rotation {self.rotation!r}, {self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"]
        lines += ["  " + "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
        lines.append(f"  MaxDev old {self.old.max_dev:.2f} ({self.max_dev_shifts(self.old):.2f} shifts) -> "
                     f"new {self.new.max_dev:.2f} ({self.max_dev_shifts(self.new):.2f} shifts)")
        return "\n".join(lines)


def _shares(loads: dict[str, list], rotation: RotationConfig) -> dict[str, float]:
    total = sum(v[0].weight for v in loads.values())
    members = {m.user: m for m in rotation.members}
    fte = sum(m.fte for m in members.values())
    return {u: (total * members[u].fte / fte if u in members and fte else 0.0) for u in loads}


def audit(mapped: MappedSchedule, rotation: RotationConfig, overrides: list[Override], start: datetime,
          end: datetime) -> Audit:
    """Compare the vendor's expansion of `mapped.schedule` with Firewatch's plan for `rotation`."""
    calc = BurdenCalculator(rotation.rules)
    members = {m.user: m for m in rotation.members}
    totals: dict[str, list] = {m.user: [Burden(), 0] for m in rotation.members}
    names = {m.user: m.display for m in rotation.members}
    for key, s, e in expand_schedule(mapped.schedule, start, end):
        user = mapped.slack_of.get(key, key)
        member = members.get(user)
        weight = (calc.for_member(rotation, member, s, e) if member
                  else calc.compute(rotation.timezone, None, None, s, e))
        line = totals.setdefault(user, [Burden(), 0])
        names.setdefault(user, key)
        line[0] += weight
        line[1] += 1
    shares = _shares(totals, rotation)
    old = Side("old", [Load(u, names[u], b.weight, shares[u], n, b.hours, b.night_hours, b.weekend_hours,
                            b.holiday_hours) for u, (b, n) in totals.items()])
    result = plan_window(rotation, start, end, overrides=overrides)
    report = fairness_report(result)
    new = Side("new", [Load(m.user, m.name, m.burden, m.share, m.primary_shifts + m.secondary_shifts, m.hours,
                            m.night_hours, m.weekend_hours, m.holiday_hours) for m in report.members])
    return Audit(mapped.schedule.name, rotation.name, start, end, old, new, report.heaviest_shift)


def draw_chart(audits: list[Audit], path: Path) -> Path:
    """Bar chart of burden per person, old vs new, with each person's fair share marked; written as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the chart is a file
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(audits), 1, figsize=(9, 3.2 * len(audits)), squeeze=False)
    for ax, item in zip(axes[:, 0], audits):
        new = {x.user: x for x in item.new.loads}
        people = item.old.loads
        xs = range(len(people))
        ax.bar([x - 0.2 for x in xs], [p.burden for p in people], width=0.4, label="as it was")
        ax.bar([x + 0.2 for x in xs], [new[p.user].burden if p.user in new else 0 for p in people], width=0.4,
               label="Firewatch plan")
        ax.scatter(list(xs), [new[p.user].share if p.user in new else p.share for p in people], color="black",
                   marker="_", s=400, label="fair share", zorder=3)
        ax.set_xticks(list(xs), [p.name for p in people])
        ax.set_ylabel("burden")
        ax.set_title(f"{item.schedule}: MaxDev {item.max_dev_shifts(item.old):.2f} -> "
                     f"{item.max_dev_shifts(item.new):.2f} shifts")
        ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
    return path
