"""The optimising planner's model: one block of shifts solved at once with OR-Tools CP-SAT.

The engine describes a block (who may take which shift, what each shift would weigh for each person, how its
burden adds to everyone's fair share, what is already booked around it) as a `BlockProblem`; `solve_block`
returns the assignment or None. Priorities, as one weighted objective (each term dwarfs the next):

1. fairness: the largest |burden - fair share| among the members on the rotation at the end of the block and
   at three checkpoints inside it, then the sum of the end deviations;
2. rhythm: a person's shifts as close together as the rest rule allows ("every other day") cost a little;
3. stability: each shift given to someone other than the previously planned person costs less still.

Hard constraints (availability and membership through `eligible`, rest, `max_shifts_in_window`,
`max_weekends_in_window`, a senior in every pair, one role per person per shift) are constraints, never
objective terms. CP-SAT runs on one worker with a deterministic effort limit, so the same problem always gets the same answer; the wall-clock limit is a
guard, and a solve it cuts short is reported as timed out (the engine then plans greedily).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from bot.rotations.domain.models import PRIMARY, SECONDARY

# Integer scaling for CP-SAT: burden to 1/100, share fractions to 1/1000.
_WEIGHT_SCALE = 100
_SHARE_SCALE = 1000
# Objective weights relative to one heaviest shift of deviation (see the module docstring).
_MAX_DEV_FACTOR = 10
_EFFORT_SIZE = 1000  # choice variables per unit of `effort`
_CHECKPOINT_FACTOR = 1
_RHYTHM_COST = 0.1
_CHANGE_COST = 0.5


@dataclass
class BlockProblem:
    """Everything the model needs about one block; keys (k, role) name a shift by slot index and role."""

    needs: list[tuple[int, str]]
    eligible: dict[tuple[int, str], list[str]]
    weight: dict[tuple[int, str, str], float]  # burden of shift (k, role) if `user` takes it
    share: dict[tuple[int, str], dict[str, float]]  # fraction of the shift's burden added to each share
    offset: dict[str, float]  # burden - share at block end from everything already booked (history, fixed)
    balanced: set[str]  # members whose deviation counts (on the rotation during the block)
    seniors: set[str] = field(default_factory=set)
    pair_senior: bool = False
    rest: int = 1  # grid shifts off between two shifts of one person
    busy: dict[str, set[int]] = field(default_factory=dict)  # slots already taken outside the block
    window_slots: int = 0  # max_shifts_in_window as consecutive slots (0: no rule)
    window_cap: int = 0
    weekend_window: int = 0  # max_weekends_in_window as consecutive weekends (0: no rule)
    weekend_cap: int = 0
    weekends: dict[int, frozenset[int]] = field(default_factory=dict)  # slot -> weekends it overlaps (block + near)
    previous: dict[tuple[int, str], str] = field(default_factory=dict)
    unit: float = 1.0  # heaviest shift's weight: the fairness unit
    seconds: float = 5.0  # wall-clock guard
    effort: float = 1.0  # deterministic time limit (CP-SAT's own units, about seconds)
    hint: dict[tuple[int, str], str] = field(default_factory=dict)  # a first guess (the greedy plan)
    # Checkpoints inside the block: slot index -> offset as above at the end of that slot; their max deviation
    # costs a little too, so the plan is fair along the way, not only at the block's end.
    checkpoints: dict[int, dict[str, float]] = field(default_factory=dict)


@dataclass
class BlockSolution:
    assignment: dict[tuple[int, str], str]
    optimal: bool
    max_dev: float  # the block-end max deviation the solver reached, in heaviest shifts
    seconds: float


def solve_block(problem: BlockProblem) -> BlockSolution | None:
    """Solve one block; None if it is infeasible or the wall-clock guard cut the search short."""
    model = cp_model.CpModel()
    x: dict[tuple[int, str, str], cp_model.IntVar] = {}
    by_user_slot: dict[tuple[str, int], list] = {}
    for k, role in problem.needs:
        options = problem.eligible.get((k, role), [])
        if not options:
            return None
        for user in options:
            var = model.NewBoolVar(f"x_{k}_{role}_{user}")
            x[(k, role, user)] = var
            by_user_slot.setdefault((user, k), []).append(var)
        model.AddExactlyOne(x[(k, role, u)] for u in options)

    users = sorted({u for (u, _) in by_user_slot})
    slots = sorted({k for k, _ in problem.needs})
    first, last = slots[0], slots[-1]

    # One role per person per shift, and `rest` shifts off between two shifts: any rest+1 consecutive slots
    # hold at most one shift of a person (slots booked outside the block count as taken).
    span = problem.rest + 1
    for user in users:
        busy = problem.busy.get(user, set())
        for a in range(first - span + 1, last + 1):
            terms = [v for j in range(a, a + span) for v in by_user_slot.get((user, j), [])]
            if not terms:
                continue
            used = sum(1 for j in range(a, a + span) if j in busy)
            model.Add(sum(terms) <= 1 - used)
        if problem.window_slots and problem.window_cap:
            for a in range(first - problem.window_slots + 1, last + 1):
                window = range(a, a + problem.window_slots)
                terms = [v for j in window for v in by_user_slot.get((user, j), [])]
                if not terms:
                    continue
                used = sum(1 for j in window if j in busy)
                model.Add(sum(terms) <= max(0, problem.window_cap - used))

    if problem.weekend_window and problem.weekend_cap:
        for user in users:
            _limit_weekends(model, problem, user, by_user_slot)

    if problem.pair_senior:
        needed = set(problem.needs)
        for k in slots:
            if (k, PRIMARY) in needed and (k, SECONDARY) in needed:
                seniors = [x[(k, r, u)] for r in (PRIMARY, SECONDARY) for u in problem.eligible[(k, r)]
                           if u in problem.seniors]
                if not seniors:
                    return None
                model.Add(sum(seniors) >= 1)

    # Deviation at block end, per member: offset + own burden - share of every planned shift's burden.
    scale = _WEIGHT_SCALE * _SHARE_SCALE
    weight_int = {key: round(w * _WEIGHT_SCALE) for key, w in problem.weight.items() if key in x}
    shift_burden: dict[tuple[int, str], cp_model.IntVar] = {}
    total = 0
    for k, role in problem.needs:
        options = problem.eligible[(k, role)]
        top = max(weight_int[(k, role, u)] for u in options)
        total += top
        var = model.NewIntVar(0, top, f"w_{k}_{role}")
        model.Add(var == sum(weight_int[(k, role, u)] * x[(k, role, u)] for u in options))
        shift_burden[(k, role)] = var
    members = sorted(set(problem.balanced) | set(users))
    bound = round(max([abs(v) for v in problem.offset.values()] + [0]) * scale) + 2 * total * _SHARE_SCALE + 1
    unit = max(problem.unit, 1e-9) * scale
    worst = model.NewIntVar(0, bound, "max_dev")
    absolutes = []
    for user in members:
        own = [weight_int[(k, r, user)] * _SHARE_SCALE * x[(k, r, user)] for k, r in problem.needs
               if (k, r, user) in x]
        shared = [round(problem.share[(k, r)].get(user, 0.0) * _SHARE_SCALE) * shift_burden[(k, r)]
                  for k, r in problem.needs if problem.share[(k, r)].get(user, 0.0) > 0]
        dev = model.NewIntVar(-bound, bound, f"dev_{user}")
        model.Add(dev == round(problem.offset.get(user, 0.0) * scale) + sum(own) - sum(shared))
        absolute = model.NewIntVar(0, bound, f"abs_{user}")
        model.AddAbsEquality(absolute, dev)
        absolutes.append(absolute)
        if user in problem.balanced:
            model.Add(worst >= absolute)

    checkpoint_worst = []
    for c, offsets in sorted(problem.checkpoints.items()):
        upto = [(k, r) for k, r in problem.needs if k <= c]
        peak = model.NewIntVar(0, bound, f"max_dev_{c}")
        for user in sorted(problem.balanced):
            own = [weight_int[(k, r, user)] * _SHARE_SCALE * x[(k, r, user)] for k, r in upto if (k, r, user) in x]
            shared = [round(problem.share[(k, r)].get(user, 0.0) * _SHARE_SCALE) * shift_burden[(k, r)]
                      for k, r in upto if problem.share[(k, r)].get(user, 0.0) > 0]
            dev = model.NewIntVar(-bound, bound, f"dev_{c}_{user}")
            model.Add(dev == round(offsets.get(user, 0.0) * scale) + sum(own) - sum(shared))
            absolute = model.NewIntVar(0, bound, f"abs_{c}_{user}")
            model.AddAbsEquality(absolute, dev)
            model.Add(peak >= absolute)
        checkpoint_worst.append(peak)

    # Rhythm: a shift exactly `rest + 1` slots after the previous one (as close as allowed) costs a little.
    close = []
    gap = problem.rest + 1
    for user in users:
        busy = problem.busy.get(user, set())
        for k in range(first - gap, last + 1):
            here = by_user_slot.get((user, k), [])
            there = by_user_slot.get((user, k + gap), [])
            if not there or not (here or k in busy):
                continue
            pair = model.NewBoolVar(f"close_{user}_{k}")
            if here:
                model.Add(sum(here) + sum(there) - 1 <= pair)
            else:
                model.Add(sum(there) <= pair)
            close.append(pair)

    changes = []
    for (k, role), user in problem.previous.items():
        var = x.get((k, role, user))
        if var is not None:
            changes.append(1 - var)
    guess = {**problem.previous, **problem.hint}  # the greedy plan is feasible as a whole; previous may not be
    greedy_worst = _complete_hint(model, {var: int(guess[(k, role)] == user) for (k, role, user), var in x.items()
                                          if (k, role) in guess}, worst)
    if greedy_worst is not None:
        model.Add(worst <= greedy_worst)  # never less fair at the block's end than the first guess

    model.Minimize(
        _MAX_DEV_FACTOR * worst + sum(absolutes) + _CHECKPOINT_FACTOR * sum(checkpoint_worst)
        + round(_RHYTHM_COST * unit) * sum(close) + round(_CHANGE_COST * unit) * sum(changes)
    )
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1  # one worker: the same problem always gets the same answer
    solver.parameters.random_seed = 0
    # Presolve alone grows with the model: bigger blocks get proportionally more effort.
    solver.parameters.max_deterministic_time = max(problem.effort, 0.01) * max(1.0, len(x) / _EFFORT_SIZE)
    solver.parameters.max_time_in_seconds = max(problem.seconds, 0.01)
    solver.parameters.absolute_gap_limit = 0.25 * unit  # MaxDev within 0.025 of a shift, or 25 close pairs
    solver.parameters.linearization_level = 2
    status = solver.Solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    if status != cp_model.OPTIMAL and solver.WallTime() >= 0.98 * problem.seconds:
        return None  # stopped by the wall clock, not by the deterministic limit: not reproducible
    assignment = {(k, r): u for (k, r, u), var in x.items() if solver.BooleanValue(var)}
    return BlockSolution(assignment, status == cp_model.OPTIMAL, solver.Value(worst) / unit, solver.WallTime())


def _limit_weekends(model: cp_model.CpModel, problem: BlockProblem, user: str, by_user_slot: dict) -> None:
    """At most weekend_cap worked weekends in any weekend_window consecutive ones (booked slots count)."""
    busy = problem.busy.get(user, set())
    choices: dict[int, list] = {}  # weekend -> this person's choice variables of slots overlapping it
    fixed: set[int] = set()  # weekends already worked through slots booked outside the block
    for j, weekends in problem.weekends.items():
        if j in busy:
            fixed |= weekends
        for var in by_user_slot.get((user, j), []):
            for w in weekends:
                choices.setdefault(w, []).append(var)
    worked = {}
    for w, variables in sorted(choices.items()):
        if w in fixed:
            continue  # already worked: taking another shift that weekend costs nothing more
        worked[w] = model.NewBoolVar(f"weekend_{user}_{w}")
        for var in variables:
            model.AddImplication(var, worked[w])
    if not worked:
        return
    n = problem.weekend_window
    for a in range(min(worked) - n + 1, max(worked) + 1):
        terms = [worked[w] for w in range(a, a + n) if w in worked]
        if terms:
            used = sum(1 for w in range(a, a + n) if w in fixed)
            model.Add(sum(terms) <= max(0, problem.weekend_cap - used))


def _complete_hint(model: cp_model.CpModel, values: dict, worst: cp_model.IntVar) -> int | None:
    """Hint every variable, not only the assignment: a partial hint is often not completed within a small
    effort limit, while a complete feasible one is taken as the first solution straight away."""
    trial = model.Clone()
    for var, value in values.items():
        trial.Add(trial.GetBoolVarFromProtoIndex(var.Index()) == value)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 1.0
    # Any solution will do (the objective is for the real solve).
    trial.ClearObjective()
    if solver.Solve(trial) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for var, value in values.items():  # not feasible as a whole (previous plan now breaks a rule)
            model.AddHint(var, value)
        return None
    for index in range(len(model.Proto().variables)):
        var = model.GetIntVarFromProtoIndex(index)
        model.AddHint(var, solver.Value(trial.GetIntVarFromProtoIndex(index)))
    return solver.Value(trial.GetIntVarFromProtoIndex(worst.Index()))
