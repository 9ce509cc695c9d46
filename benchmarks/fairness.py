"""Fairness benchmark: Firewatch's planner against round-robin, over a deterministic scenario suite.

    python -m benchmarks.fairness           # full suite (about a minute on 2 cores)
    python -m benchmarks.fairness --quick   # small subset

Each scenario is one year of shifts (daily, weekly or 12-hour) for 4 to 40 members in one to three time
zones, generated from a fixed seed: public holidays of each member's country, about three weeks of PTO per
member (in blocks, never more than a team can absorb at once, all ending at least six weeks before the
year ends so that PTO debt can be repaid inside the measured year), part-timers in teams of six or more,
one joiner and one leaver. Some scenarios have a secondary with a senior in every pair (half the team is
senior there). Every team can in principle be staffed fairly; the planner is not told any of this.

Metrics are computed here, independently of the planner's own ledger:
- MaxDev: max over members of |burden - fair share| at the end of the year, divided by the heaviest single
  shift (fair share: every shift's burden split among the members on the rotation then, by FTE);
- violations: PTO, not a member, rest, secondary == primary, no senior in a pair;
- planning time.
The baseline is round-robin in roster order where the next available person covers someone on PTO.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from bot.rotations.domain.burden import BurdenCalculator
from bot.rotations.domain.config import RotationConfig
from bot.rotations.domain.engine import plan
from bot.rotations.domain.models import PRIMARY, SECONDARY, Shift
from bot.rotations.domain.timeline import ShiftGrid, overlaps, to_aware

YEAR_START = date(2027, 1, 1)
YEAR_END = date(2028, 1, 1)
ZONES = [("Europe/London", "GB"), ("America/New_York", "US"), ("Asia/Kolkata", "IN"), ("Europe/Berlin", "DE"),
         ("Asia/Tokyo", "JP"), ("Australia/Sydney", "AU"), ("America/Los_Angeles", "US")]
SEED = 20270101


@dataclass(frozen=True)
class Scenario:
    name: str
    size: int
    zones: int
    length: str
    secondary: bool = False
    seed: int = 0
    late_leave: bool = False  # one member takes two weeks of leave in the year's last month


@dataclass
class Outcome:
    max_dev: float
    violations: int
    seconds: float


def scenario_suite(quick: bool) -> list[Scenario]:
    sizes = [4, 6, 10, 40] if quick else [4, 5, 6, 8, 10, 12, 16, 20, 30, 40]
    lengths = ["1w", "12h"] if quick else ["1d", "1w", "12h"]
    seeds = (0,) if quick else (0, 1, 2)  # independent random teams per configuration
    suite = []
    for seed in seeds:
        for size in sizes:
            for zones in (1, 2, 3):
                if quick and zones == 2:
                    continue
                for length in lengths:
                    # A secondary (with a senior in every pair) on every other mid-size team.
                    secondary = 8 <= size <= 20 and (size + zones + seed) % 2 == 0
                    name = f"n{size}-z{zones}-{length}{'-pair' if secondary else ''}-s{seed}"
                    suite.append(Scenario(name, size, zones, length, secondary, seed))
    return suite


def build_rotation(sc: Scenario, seed: int = SEED) -> RotationConfig:
    """Deterministic rotation config for a scenario (seeded by the scenario's name)."""
    rng = random.Random(f"{seed}-{sc.name}-{sc.seed}")
    members = _members(sc, rng)
    # One joiner (from late spring) and one leaver (from autumn), both junior (odd positions).
    odd = [m for i, m in enumerate(members) if i % 2 == 1]
    joiner, leaver = odd[-1], odd[-2]
    joiner["seniority"] = leaver["seniority"] = "junior"
    seniors = {m["user"] for m in members if m["seniority"] == "senior"}
    joiner["joined"] = (YEAR_START + timedelta(days=rng.randint(90, 150))).isoformat()
    leaver["left"] = (YEAR_START + timedelta(days=rng.randint(240, 300))).isoformat()
    unavailability = _leave(sc, members, seniors, rng)
    if sc.late_leave:
        start = YEAR_END - timedelta(days=24)
        unavailability.append({"user": members[0]["user"], "start": start.isoformat(),
                               "end": (start + timedelta(days=14)).isoformat(), "reason": "PTO"})
    return RotationConfig.model_validate({
        "name": sc.name.replace(".", "-"),
        "timezone": ZONES[0][0],
        "shift": {"length": sc.length, "handoff_time": "09:00"} | ({"handoff_day": "mon"} if sc.length == "1w" else {}),
        "secondary": sc.secondary,
        "members": members,
        "unavailability": unavailability,
        "rules": {"min_rest_shifts": 1, "senior_in_every_pair": sc.secondary},
        "start": YEAR_START.isoformat(),
    })


def _members(sc: Scenario, rng: random.Random) -> list[dict]:
    """The scenario's people, spread over its zones (draws from `rng` in a fixed order)."""
    members = []
    for i in range(sc.size):
        tz, country = ZONES[i % sc.zones]
        # A team that wants a senior in every pair staffs for it: half its people are senior.
        senior = i % 2 == 0 if sc.secondary else i % 3 == 0
        members.append({
            "user": f"U{i:04d}",
            "name": f"member{i}",
            "timezone": tz,
            "country": country,
            "seniority": "senior" if senior else ("junior" if i % 3 == 1 else "mid"),
            # Part-timers only in teams of 6+: in smaller teams a full-timer's fair share would exceed
            # what the rest rule allows (every other shift), so no planner could be fair.
            "fte": 1.0 if sc.size < 6 else (0.5 if rng.random() < 0.15 else (0.8 if rng.random() < 0.1 else 1.0)),
        })
    return members

def _leave(sc: Scenario, members: list[dict], seniors: set[str], rng: random.Random) -> list[dict]:
    """21 days of PTO per person, capped per day so every instance stays feasible."""
    per_shift = 2 if sc.secondary else 1
    max_off = max(1, (sc.size - 2 * per_shift - 1) // 2)
    max_seniors_off = max(1, len(seniors) - 3)
    off_per_day: dict[date, int] = defaultdict(int)
    seniors_off: dict[date, int] = defaultdict(int)
    unavailability = []
    for m in members:
        first = date.fromisoformat(m["joined"]) if "joined" in m else YEAR_START
        last = (date.fromisoformat(m["left"]) if "left" in m else YEAR_END) - timedelta(days=42)
        remaining = 21
        attempts = 0
        while remaining > 0 and attempts < 200:
            attempts += 1
            length = min(remaining, rng.choice([5, 7, 7, 10, 14]))
            span = (last - first).days - length
            if span <= 0:
                break
            start = first + timedelta(days=rng.randint(0, span))
            # Count a day either side against the team's cap: with members in other zones and shifts
            # spanning midnight, back-to-back PTO of two people overlaps in real time.
            days = [start + timedelta(days=d) for d in range(-1, length + 1)]
            taken = {u["start"] for u in unavailability if u["user"] == m["user"]}
            if any(off_per_day[d] >= max_off for d in days) or start.isoformat() in taken:
                continue
            is_senior = sc.secondary and m["user"] in seniors
            if is_senior and any(seniors_off[d] >= max_seniors_off for d in days):
                continue
            if any(overlaps_days(u, start, length) for u in unavailability if u["user"] == m["user"]):
                continue
            for d in days:
                off_per_day[d] += 1
                seniors_off[d] += 1 if is_senior else 0
            unavailability.append({"user": m["user"], "start": start.isoformat(),
                                   "end": (start + timedelta(days=length)).isoformat(), "reason": "PTO"})
            remaining -= length
    return unavailability

def overlaps_days(item: dict, start: date, length: int) -> bool:
    a, b = date.fromisoformat(item["start"]), date.fromisoformat(item["end"])
    return a < start + timedelta(days=length + 2) and start < b + timedelta(days=2)


# ----------------------------------------------------------------------------------------------------------
# Baseline


def round_robin(rotation: RotationConfig) -> list[Shift]:
    """Roster-order round-robin; if it is someone's turn while they are away, the next available covers."""
    tz = rotation.zone
    grid = ShiftGrid(rotation)
    calc = BurdenCalculator(rotation.rules)
    roster = [m.user for m in rotation.members]
    members = {m.user: m for m in rotation.members}
    away = _away(rotation)
    window = _windows(rotation)
    pointer = 0
    shifts: list[Shift] = []
    for slot in grid.slots(to_aware(YEAR_START, tz), to_aware(YEAR_END, tz)):
        def free(user: str) -> bool:
            lo, hi = window[user]
            return (lo is None or slot.start >= lo) and (hi is None or slot.end <= hi) and not any(
                overlaps(a, b, slot.start, slot.end) for a, b in away[user])
        active = [u for u in roster if free(u)] or roster
        # The turn passes along the roster; an absent person's turn is covered by the next available.
        turn = roster[pointer % len(roster)]
        while not (window[turn][0] is None or slot.start >= window[turn][0]) or not (
                window[turn][1] is None or slot.end <= window[turn][1]):
            pointer += 1  # not (yet / any more) on the rotation: skip their turn entirely
            turn = roster[pointer % len(roster)]
        pointer += 1
        idx = roster.index(turn)
        primary = next((roster[(idx + d) % len(roster)] for d in range(len(roster))
                        if roster[(idx + d) % len(roster)] in active), turn)
        people = [(PRIMARY, primary)]
        if rotation.secondary:
            # The secondary runs half a roster behind the primary, so nobody is on two shifts in a row.
            pidx = roster.index(primary) + len(roster) // 2
            second = next((roster[(pidx + d) % len(roster)] for d in range(len(roster))
                           if roster[(pidx + d) % len(roster)] in active and roster[(pidx + d) % len(roster)] != primary),
                          roster[(pidx + 1) % len(roster)])
            people.append((SECONDARY, second))
        for role, user in people:
            weight = calc.for_member(rotation, members[user], slot.start, slot.end).weight
            if role == SECONDARY:
                weight *= rotation.rules.secondary_weight
            shifts.append(Shift(rotation.name, role, user, slot.start, slot.end, weight, "planned", slot.index))
    return shifts


# ----------------------------------------------------------------------------------------------------------
# Independent metrics


def _away(rotation: RotationConfig) -> dict[str, list]:
    away: dict[str, list] = defaultdict(list)
    for u in rotation.unavailability:
        mz = rotation.member_zone(rotation.member(u.user))
        away[u.user].append((to_aware(u.start, mz), to_aware(u.end, mz)))
    return away


def _windows(rotation: RotationConfig) -> dict[str, tuple]:
    tz = rotation.zone
    return {m.user: (to_aware(m.joined, tz) if m.joined else None, to_aware(m.left, tz) if m.left else None)
            for m in rotation.members}


def max_deviation(rotation: RotationConfig, shifts: list[Shift], unit: float) -> float:
    """Max |burden - fair share| at the end, in units of `unit` (the heaviest single shift)."""
    window = _windows(rotation)
    fte = {m.user: m.fte for m in rotation.members}
    burden: dict[str, float] = defaultdict(float)
    share: dict[str, float] = defaultdict(float)
    for s in shifts:
        burden[s.user] += s.weight
        span = (s.end - s.start).total_seconds()
        caps = {}
        for user, (lo, hi) in window.items():
            a, b = max(s.start, lo) if lo else s.start, min(s.end, hi) if hi else s.end
            caps[user] = fte[user] * max(0.0, (b - a).total_seconds()) / span
        total = sum(caps.values())
        for user, cap in caps.items():
            share[user] += s.weight * cap / total
    return max(abs(burden[u] - share[u]) for u in window) / unit


def count_violations(rotation: RotationConfig, shifts: list[Shift]) -> int:
    """Hard-constraint breaches in a schedule: PTO, membership, rest, same person twice, no senior."""
    away, window = _away(rotation), _windows(rotation)
    seniors = {m.user for m in rotation.members if m.is_senior}
    rest = rotation.rules.min_rest_shifts
    by_slot: dict[int, dict[str, str]] = defaultdict(dict)
    slots_of: dict[str, list[int]] = defaultdict(list)
    bad = 0
    for s in shifts:
        lo, hi = window[s.user]
        if (lo and s.start < lo) or (hi and s.end > hi):
            bad += 1
        if any(overlaps(a, b, s.start, s.end) for a, b in away[s.user]):
            bad += 1
        by_slot[s.slot][s.role] = s.user
        slots_of[s.user].append(s.slot)
    for user, slots in slots_of.items():
        ordered = sorted(slots)
        bad += sum(1 for a, b in zip(ordered, ordered[1:]) if b - a <= rest)  # includes same slot twice
    if rotation.secondary and rotation.rules.senior_in_every_pair:
        bad += sum(1 for pair in by_slot.values() if not (set(pair.values()) & seniors))
    return bad


def issue_teams() -> list[Scenario]:
    """The one-year team kinds of issue 12 (part-timers, a joiner and a leaver are in every team of 6+)."""
    return [
        Scenario("daily-8", 8, 1, "1d"),
        Scenario("weekly-6", 6, 1, "1w"),
        Scenario("12h-10-z2", 10, 2, "12h"),
        Scenario("pair-12-senior", 12, 1, "1d", secondary=True),
        Scenario("parttime-16-z3", 16, 3, "1d"),
        Scenario("40p-7zones", 40, 7, "1d"),
        Scenario("daily-8-lateleave", 8, 1, "1d", late_leave=True),
        Scenario("weekly-10-lateleave", 10, 2, "1w", late_leave=True),
    ]


def run_scenario(sc: Scenario) -> tuple[Outcome, Outcome, Outcome, str]:
    """(optimising planner, greedy planner, round-robin, which planner produced the first) for one scenario."""
    rotation = build_rotation(sc)
    t0 = time.perf_counter()
    result = plan(rotation, YEAR_START, YEAR_END, planner="optimal")
    opt_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    greedy = plan(rotation, YEAR_START, YEAR_END, planner="greedy")
    greedy_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    rr = round_robin(rotation)
    rr_time = time.perf_counter() - t0
    unit = max(s.weight for s in result.shifts + greedy.shifts + rr if s.role == PRIMARY)
    outcomes = [Outcome(max_deviation(rotation, shifts, unit), count_violations(rotation, shifts), seconds)
                for shifts, seconds in ((result.shifts, opt_time), (greedy.shifts, greedy_time), (rr, rr_time))]
    return outcomes[0], outcomes[1], outcomes[2], result.planner


def scale_run(members: int = 1000) -> tuple[float, int, float]:
    """A year of daily shifts for `members` people in three zones, with PTO; returns (seconds, shifts, maxdev)."""
    rng = random.Random(SEED)
    people = [{"user": f"U{i:05d}", "timezone": ZONES[i % 3][0], "country": ZONES[i % 3][1],
               "fte": 0.5 if i % 7 == 0 else 1.0} for i in range(members)]
    pto = []
    for p in people:
        start = YEAR_START + timedelta(days=rng.randint(0, 300))
        pto.append({"user": p["user"], "start": start.isoformat(), "end": (start + timedelta(days=21)).isoformat()})
    rotation = RotationConfig.model_validate({
        "name": "scale", "timezone": "Europe/London", "shift": {"length": "1d", "handoff_time": "09:00"},
        "members": people, "unavailability": pto, "start": YEAR_START.isoformat(),
    })
    t0 = time.perf_counter()
    result = plan(rotation, YEAR_START, YEAR_END, planner="greedy")
    seconds = time.perf_counter() - t0
    unit = max(s.weight for s in result.shifts)
    # With 1,000 people and 365 shifts nobody does more than one; deviation is below one shift by nature.
    dev = max(abs(line.deviation) for line in result.ledger.values()) / unit
    return seconds, len(result.shifts), dev


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run a small subset")
    parser.add_argument("--teams", action="store_true", help="only the one-year teams of issue 12")
    args = parser.parse_args(argv)
    suite = issue_teams() + ([] if args.teams else scenario_suite(args.quick))
    print(f"{'scenario':<26} {'OPT':>6} {'GREEDY':>6} {'RR':>6} {'OPT/GR':>6} {'viol O/G/R':>11} "
          f"{'OPT s':>6} {'GR s':>6}  planner")
    rows = []
    started = time.perf_counter()
    for sc in suite:
        opt, greedy, rr, which = run_scenario(sc)
        rows.append((sc, opt, greedy, rr))
        ratio = opt.max_dev / max(greedy.max_dev, 1e-9)
        print(f"{sc.name:<26} {opt.max_dev:6.2f} {greedy.max_dev:6.2f} {rr.max_dev:6.2f} {ratio:6.2f} "
              f"{opt.violations:3d}/{greedy.violations:3d}/{rr.violations:3d} {opt.seconds:6.2f} "
              f"{greedy.seconds:6.2f}  {which}", flush=True)
    ordinary = [opt.max_dev for sc, opt, _, _ in rows if not sc.late_leave]
    late = [opt.max_dev for sc, opt, _, _ in rows if sc.late_leave]
    opt_viol = sum(opt.violations for _, opt, _, _ in rows)
    print()
    print(f"scenarios: {len(rows)}  (suite time {time.perf_counter() - started:.1f} s)")
    print(f"MaxDev, ordinary teams: optimising median {statistics.median(ordinary):.2f} (goal <= 0.10), "
          f"worst {max(ordinary):.2f} (goal <= 0.25); greedy median "
          f"{statistics.median([g.max_dev for sc, _, g, _ in rows if not sc.late_leave]):.2f}")
    if late:
        print(f"MaxDev with leave in the last month: optimising worst {max(late):.2f} (goal <= 0.5); greedy worst "
              f"{max(g.max_dev for sc, _, g, _ in rows if sc.late_leave):.2f}")
    print(f"median MaxDev ratio optimising / greedy (same run): "
          f"{statistics.median(o.max_dev / max(g.max_dev, 1e-9) for _, o, g, _ in rows):.2f}")
    print(f"hard-constraint violations: optimising {opt_viol} (goal 0), greedy "
          f"{sum(g.violations for _, _, g, _ in rows)}, round-robin {sum(r.violations for _, _, _, r in rows)}")
    print(f"slowest optimising plan: {max(o.seconds for _, o, _, _ in rows):.2f} s (goal < 10 s for 40 people)")
    if not args.teams:
        size = 200 if args.quick else 1000
        seconds, count, dev = scale_run(size)
        print(f"scale (greedy planner): {size} members, one year of daily shifts ({count} shifts) in {seconds:.2f} s, "
              f"MaxDev {dev:.2f}")
    ok = statistics.median(ordinary) <= 0.10 and max(ordinary) <= 0.25 and opt_viol == 0 and (
        not late or max(late) <= 0.5)
    print("result:", "all goals met" if ok else "GOALS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
