"""CP-SAT against HiGHS (MIP) on the planner's own block model, for the README's choice of solver.

    python -m benchmarks.solver_compare [--seconds 2]

Captures the second block of a few one-year teams (from `benchmarks.fairness`), solves it with the shipped
CP-SAT model and with the same model in HiGHS (fairness terms only: the block-end max and sum of deviations,
the same hard constraints), and prints the block-end MaxDev each reaches (in heaviest shifts) and the time.
HiGHS is optional: `pip install highspy`.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from benchmarks.fairness import YEAR_END, YEAR_START, build_rotation, issue_teams
from bot.rotations.domain import engine
from bot.rotations.domain.models import PRIMARY, SECONDARY
from bot.rotations.domain.optimizer import BlockProblem, solve_block


def capture(name: str, which: int = 2) -> BlockProblem:
    """The `which`-th block problem the engine builds for team `name`."""
    seen: list[BlockProblem] = []
    original = engine.solve_block

    def spy(problem: BlockProblem):
        seen.append(problem)
        return original(problem)

    engine.solve_block = spy
    try:
        sc = next(s for s in issue_teams() if s.name == name)
        engine.plan(build_rotation(sc), YEAR_START, YEAR_END)
    finally:
        engine.solve_block = original
    return seen[min(which, len(seen) - 1)]


def block_max_dev(problem: BlockProblem, assignment: dict) -> float:
    """Block-end max |deviation| over `balanced`, in heaviest shifts, computed from the assignment."""
    dev = dict(problem.offset)
    for (k, role), user in assignment.items():
        weight = problem.weight[(k, role, user)]
        dev[user] = dev.get(user, 0.0) + weight
        for other, fraction in problem.share[(k, role)].items():
            dev[other] = dev.get(other, 0.0) - fraction * weight
    return max(abs(dev.get(u, 0.0)) for u in problem.balanced) / problem.unit


def solve_highs(problem: BlockProblem, seconds: float) -> dict | None:
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", seconds)
    h.setOptionValue("threads", 1)
    x = {}
    for k, role in problem.needs:
        for user in problem.eligible[(k, role)]:
            x[(k, role, user)] = h.addBinary()
        h.addConstr(sum(x[(k, role, u)] for u in problem.eligible[(k, role)]) == 1)
    by_user_slot: dict = {}
    for (k, role, user), var in x.items():
        by_user_slot.setdefault((user, k), []).append(var)
    slots = sorted({k for k, _ in problem.needs})
    span = problem.rest + 1
    for user in {u for u, _ in by_user_slot}:
        busy = problem.busy.get(user, set())
        for a in range(slots[0] - span + 1, slots[-1] + 1):
            terms = [v for j in range(a, a + span) for v in by_user_slot.get((user, j), [])]
            if len(terms) > 1 or (terms and any(j in busy for j in range(a, a + span))):
                h.addConstr(sum(terms) <= 1 - sum(1 for j in range(a, a + span) if j in busy))
    if problem.pair_senior:
        needed = set(problem.needs)
        for k in slots:
            if (k, PRIMARY) in needed and (k, SECONDARY) in needed:
                h.addConstr(sum(x[(k, r, u)] for r in (PRIMARY, SECONDARY) for u in problem.eligible[(k, r)]
                                if u in problem.seniors) >= 1)
    worst = h.addVariable(lb=0)
    absolutes = []
    for user in sorted(problem.balanced):
        expr = problem.offset.get(user, 0.0)
        for (k, role, u), var in x.items():
            coefficient = (problem.weight[(k, role, u)] if u == user else 0.0) - \
                problem.share[(k, role)].get(user, 0.0) * problem.weight[(k, role, u)]
            if coefficient:
                expr = expr + coefficient * var
        absolute = h.addVariable(lb=0)
        h.addConstr(absolute - expr >= 0)
        h.addConstr(absolute + expr >= 0)
        h.addConstr(worst - absolute >= 0)
        absolutes.append(absolute)
    h.minimize(10 * worst + sum(absolutes))
    solution = h.getSolution()
    if h.getInfo().primal_solution_status != 2:  # kSolutionStatusFeasible
        return None
    values = solution.col_value
    return {(k, r): u for (k, r, u), var in x.items() if values[var.index] > 0.5}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    print(f"{'team':<18} {'vars':>6} {'CP-SAT dev':>10} {'s':>6} {'HiGHS dev':>10} {'s':>6}")
    for name in ("daily-8", "weekly-6", "12h-10-z2", "pair-12-senior"):
        problem = capture(name)
        # Fairness only, so that both solvers optimise the same thing; CP-SAT gets the same wall-clock limit.
        fair = replace(problem, previous={}, checkpoints={}, seconds=args.seconds, effort=args.seconds)
        # CP-SAT stops on its deterministic limit (about the same time here); the wall clock is only a guard.
        fair_cp = replace(fair, seconds=3 * args.seconds, effort=args.seconds / 4)
        t0 = time.perf_counter()
        cp = solve_block(fair_cp)
        cp_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        hi = solve_highs(fair, args.seconds)
        hi_s = time.perf_counter() - t0
        size = sum(len(v) for v in problem.eligible.values())
        cp_dev = f"{block_max_dev(problem, cp.assignment):.3f}" if cp else "none"
        hi_dev = f"{block_max_dev(problem, hi):.3f}" if hi else "none"
        print(f"{name:<18} {size:6d} {cp_dev:>10} {cp_s:6.2f} {hi_dev:>10} {hi_s:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
