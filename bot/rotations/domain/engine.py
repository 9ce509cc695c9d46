"""The fair on-call planner.

With `rules.planner: optimal` (the default) each block of about 13 weeks, aligned on the rotation's anchor, is
solved at once by `bot.rotations.domain.optimizer` (CP-SAT), starting from the greedy plan described below; a block the
solver cannot do within the rules or its time budget is planned greedily, and `Plan.planner` says so.

The greedy planner walks the rotation's shift grid in time order and, for every shift, picks a person:

1. Hard constraints first: on the rotation at that time (joined/left), not unavailable, at least
   `rules.min_rest_shifts` grid shifts off between two shifts, secondary differs from primary, and with
   `senior_in_every_pair` at least one senior per pair.
2. Among the eligible, the member with the largest deficit (fair share minus burden so far) wins; ties go
   to whoever has rested longest, then to the smaller user id, so the result is deterministic.
3. A short lookahead (min_rest + 1 shifts) rejects a choice that would leave a following shift with no
   eligible person, which a purely greedy choice can do around PTO.
4. If nobody is eligible, the least-bad person is chosen and a `Violation` is recorded; planning never fails.

The ledger carries history (served shifts, extra burden events) so that debt from the past is paid back.
Fair share: each unit of burden is split among the members on the rotation at that moment in proportion to
FTE (times availability when `rules.pto_reduces_share`). Published (`frozen`) shifts are kept verbatim,
overrides split whatever they cover, swaps exchange two published shifts, and `previous` (the last plan
beyond the horizon) is followed wherever that costs little fairness, so re-planning changes few shifts.
"""

from __future__ import annotations

import copy
import math
import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Iterable, Sequence

from bot.rotations.domain.burden import Burden, BurdenCalculator
from bot.rotations.domain.config import MemberConfig, RotationConfig
from bot.rotations.domain.models import (
    PRIMARY,
    ROLES,
    SECONDARY,
    BurdenEvent,
    CandidateNote,
    Decision,
    Override,
    ServedShift,
    Shift,
    Swap,
    Violation,
)
from bot.rotations.domain.numbers import signed
from bot.rotations.domain.timeline import UTC, ShiftGrid, Slot, overlaps, subtract, to_aware

# How much fairness (in units of the shift's own weight) we give up to keep the previously planned person.
STABILITY_TOLERANCE = 1.0
# Severity of constraint breaches when nobody is eligible and the least-bad person must be picked.
_SEVERITY = {"same_person": 1000, "not_member": 100, "unavailable": 10, "rest": 3, "seniority": 2}
_NEVER = -10**9
# The optimising planner solves the grid in blocks of about 13 weeks, aligned on the rotation's own anchor, so
# the plan of a date never depends on the window asked for (each block sees only the blocks before it).
BLOCK_DAYS = 91
# Deterministic effort per block: budget / this. CP-SAT's deterministic second was ~5 wall seconds on the 2-core
# build machine, and a year is 5 blocks, so a year fits the wall-clock budget with room to spare.
BLOCK_EFFORT_SHARE = 30
GREEDY = "greedy"
OPTIMAL = "optimal (CP-SAT)"


@dataclass
class MemberLedger:
    """Running totals for one member: burden actually carried, fair share, and hour breakdown."""

    user: str
    burden: float = 0.0
    share: float = 0.0
    hours: Burden = field(default_factory=Burden)
    primary_shifts: int = 0
    secondary_shifts: int = 0
    events: int = 0

    @property
    def deviation(self) -> float:
        """Positive: carried more than the fair share."""
        return self.burden - self.share


@dataclass
class Plan:
    """Result of `plan()`: the shifts overlapping [start, end) plus ledger, violations and decisions."""

    rotation: RotationConfig
    start: datetime
    end: datetime
    shifts: list[Shift]
    violations: list[Violation]
    ledger: dict[str, MemberLedger]
    decisions: list[Decision] = field(default_factory=list)
    heaviest_shift: float = 0.0  # heaviest single primary shift weight seen (fairness unit)
    planner: str = GREEDY  # which planner produced the planned shifts, in words (explain and fairness output)

    def on_call(self, at: datetime, role: str = PRIMARY) -> Shift | None:
        return on_call_at(self.shifts, at, role)

    def role_shifts(self, role: str = PRIMARY) -> list[Shift]:
        return [s for s in self.shifts if s.role == role]


# ---------------------------------------------------------------------------------------------------------
# Who is on call


def on_call_at(shifts: Iterable[Shift], at: datetime, role: str = PRIMARY) -> Shift | None:
    """The shift of `role` covering instant `at`, or None."""
    for shift in shifts:
        if shift.role == role and shift.start <= at < shift.end:
            return shift
    return None


@dataclass(frozen=True)
class OnCall:
    """Who is on now and who is next, per role."""

    primary: Shift | None
    secondary: Shift | None
    next_primary: Shift | None
    next_secondary: Shift | None


def next_on_call(shifts: Iterable[Shift], at: datetime, role: str = PRIMARY) -> Shift | None:
    """The first shift of `role` starting after `at` with a different person than the one on at `at`."""
    ordered = sorted((s for s in shifts if s.role == role), key=lambda s: s.start)
    current = on_call_at(ordered, at, role)
    for shift in ordered:
        if shift.start > at and (current is None or shift.user != current.user or shift.start >= current.end):
            return shift
    return None


def who_is_on(shifts: Sequence[Shift], at: datetime) -> OnCall:
    """Current and next primary/secondary shifts at instant `at` (from stored or planned shifts)."""
    return OnCall(
        primary=on_call_at(shifts, at, PRIMARY),
        secondary=on_call_at(shifts, at, SECONDARY),
        next_primary=next_on_call(shifts, at, PRIMARY),
        next_secondary=next_on_call(shifts, at, SECONDARY),
    )


# ---------------------------------------------------------------------------------------------------------
# Helpers for callers managing the published horizon


def horizon_end(rotation: RotationConfig, now: datetime) -> datetime:
    """End of the published horizon: shifts *starting* before this instant must not move."""
    return now + rotation.horizon_delta


def published(shifts: Iterable[Shift], rotation: RotationConfig, now: datetime) -> list[Shift]:
    """The shifts that must be frozen at `now` (those starting before now + horizon), marked as frozen."""
    limit = horizon_end(rotation, now)
    return [replace(s, source="frozen") if s.source == "planned" else s for s in shifts if s.start < limit]


def apply_swap(shifts: Sequence[Shift], swap: Swap) -> list[Shift]:
    """Exchange the users of the two `swap.role` shifts starting at the given instants. Raises ValueError."""
    def find(at: datetime) -> int:
        for i, s in enumerate(shifts):
            if s.role == swap.role and s.start == at:
                return i
        raise ValueError(f"swap: no {swap.role} shift starts at {at.isoformat()}")

    first, second = find(swap.first_start), find(swap.second_start)
    out = list(shifts)
    a, b = out[first], out[second]
    out[first] = replace(a, user=b.user)
    out[second] = replace(b, user=a.user)
    return out


def diff_shifts(old: Sequence[Shift], new: Sequence[Shift]) -> list[tuple[Shift | None, Shift | None]]:
    """Pairs (old, new) whose person or times changed, matched by (role, start). For change notifications."""
    before = {(s.role, s.start): s for s in old}
    after = {(s.role, s.start): s for s in new}
    changes = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[1], k[0])):
        a, b = before.get(key), after.get(key)
        if a is None or b is None or a.user != b.user or a.end != b.end:
            changes.append((a, b))
    return changes


# ---------------------------------------------------------------------------------------------------------
# Planning


def plan(
    rotation: RotationConfig,
    start: date | datetime,
    end: date | datetime,
    *,
    history: Sequence[ServedShift | Shift] = (),
    frozen: Sequence[Shift] = (),
    overrides: Sequence[Override] = (),
    swaps: Sequence[Swap] = (),
    extra_burden: Sequence[BurdenEvent] = (),
    previous: Sequence[Shift] = (),
    explain_at: datetime | None = None,
    planner: str | None = None,
) -> Plan:
    """Plan the shifts of `rotation` overlapping [start, end) (dates are midnight in the rotation's zone).

    - history: shifts actually served before (and burden carried); they feed the ledger.
    - frozen: published shifts, kept verbatim (an override may still split them).
    - overrides: explicit covers; they split the shifts underneath.
    - swaps: applied to `frozen` (raises ValueError if a swapped shift is not in `frozen`).
    - extra_burden: e.g. pages received, added to the ledger.
    - previous: the last published plan beyond the horizon; followed where it costs little fairness.
    - explain_at: record the decision for the shift(s) covering this instant in `Plan.decisions`.
    - planner: "optimal" or "greedy"; default `rules.planner`.
    """
    planner = _Planner(rotation, history, frozen, overrides, swaps, extra_burden, previous, planner)
    at = to_aware(explain_at, rotation.zone) if explain_at is not None else None
    return planner.run(to_aware(start, rotation.zone), to_aware(end, rotation.zone), at)


class _Planner:
    def __init__(
        self,
        rotation: RotationConfig,
        history: Sequence[ServedShift | Shift],
        frozen: Sequence[Shift],
        overrides: Sequence[Override],
        swaps: Sequence[Swap],
        extra_burden: Sequence[BurdenEvent],
        previous: Sequence[Shift],
        mode: str | None = None,
    ):
        self.rotation = rotation
        self.mode = mode or rotation.rules.planner
        if self.mode not in ("optimal", "greedy"):
            raise ValueError(f"planner must be 'optimal' or 'greedy', not {self.mode!r}")
        self.tz = rotation.zone
        self.grid = ShiftGrid(rotation)
        self.calc = BurdenCalculator(rotation.rules)
        self.members: dict[str, MemberConfig] = {m.user: m for m in rotation.members}
        self.order = sorted(self.members)  # stable iteration order
        self.rest = max(rotation.rules.min_rest_shifts, 1 if rotation.rules.no_back_to_back else 0)
        window_rule = rotation.rules.max_shifts_in_window
        # max_shifts_in_window as a count of consecutive grid slots (a 7d window of daily shifts: 7 slots).
        self.window_slots = math.ceil(window_rule.window_delta / rotation.shift.step) if window_rule else 0
        self.window_cap = window_rule.shifts if window_rule else 0
        self._init_weekend_rule(rotation)
        self.roles = ROLES if rotation.secondary else (PRIMARY,)
        self.pair_senior = rotation.secondary and rotation.rules.senior_in_every_pair
        self.secondary_factor = rotation.rules.secondary_weight

        # Membership windows and unavailability as aware intervals (dates: midnight in the relevant zone).
        self.window: dict[str, tuple[datetime | None, datetime | None]] = {}
        for m in rotation.members:
            joined = to_aware(m.joined, self.tz) if m.joined else None
            left = to_aware(m.left, self.tz) if m.left else None
            self.window[m.user] = (joined, left)
        self.away: dict[str, list[tuple[datetime, datetime, str, str]]] = defaultdict(list)
        for item in rotation.unavailability:
            mz = rotation.member_zone(self.members[item.user])
            span = f"{item.start} to {item.end}"  # as written in the config, for explanations
            self.away[item.user].append((to_aware(item.start, mz), to_aware(item.end, mz), item.reason or "unavailable", span))

        for swap in swaps:
            frozen = apply_swap(frozen, swap)
        self.overrides = sorted(overrides, key=lambda o: (o.start, o.role, o.user))
        cuts = defaultdict(list)
        for o in self.overrides:
            cuts[o.role].append((o.start, o.end))

        # Fixed shifts: history (verbatim) and frozen (minus overrides). Both cover time and count burden.
        self.fixed: list[Shift] = []
        for item in history:
            role = getattr(item, "role", PRIMARY) or PRIMARY
            self.fixed.append(self._make_shift(role, item.user, item.start, item.end, "history", item.weight))
        for item in frozen:
            for piece_start, piece_end in subtract((item.start, item.end), cuts[item.role]):
                weight = item.weight if (piece_start, piece_end) == (item.start, item.end) and item.weight else None
                self.fixed.append(
                    self._make_shift(item.role, item.user, piece_start, piece_end, "frozen", weight, item.slot)
                )
        for o in self.overrides:
            self.fixed.append(self._make_shift(o.role, o.user, o.start, o.end, "override"))
        self.fixed.sort(key=lambda s: (s.start, ROLES.index(s.role) if s.role in ROLES else 9, s.user))
        self.fixed_by_role: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        for s in self.fixed:
            self.fixed_by_role[s.role].append((s.start, s.end))
        self.events = sorted(extra_burden, key=lambda e: (e.at, e.user))
        self.previous = {(s.role, s.start): s.user for s in previous}

        # Grid slots occupied per user (from fixed shifts; planned ones are added as we go). Used for rest.
        self.occupied: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
        for s in self.fixed:
            if s.end <= s.start:
                continue
            for k in range(self.grid.index_at(s.start), self.grid.index_at(s.end - timedelta(microseconds=1)) + 1):
                self.occupied[s.user][k].add(s.role)
        self.last_slot: dict[str, int] = {}
        self.fixed_slots = {u: sorted(slots) for u, slots in self.occupied.items()}

        self.ledger: dict[str, MemberLedger] = {u: MemberLedger(u) for u in self.order}
        self.other_burden: dict[str, float] = defaultdict(float)  # non-members (e.g. outside cover)
        self.violations: list[Violation] = []
        self.decisions: list[Decision] = []
        self.heaviest = 0.0

    # -- burden and share ------------------------------------------------------------------------------

    def _weight_for(self, user: str, start: datetime, end: datetime) -> Burden:
        member = self.members.get(user)
        if member is None:
            return self.calc.compute(self.rotation.timezone, None, None, start, end)
        return self.calc.for_member(self.rotation, member, start, end)

    def _make_shift(self, role: str, user: str, start: datetime, end: datetime, source: str,
                    weight: float | None = None, slot: int | None = None) -> Shift:
        if weight is None:
            weight = self._weight_for(user, start, end).weight
            if role == SECONDARY:
                weight *= self.secondary_factor
        if slot is None and source != "history":
            slot = self.grid.index_at(start)
        return Shift(self.rotation.name, role, user, start.astimezone(UTC), end.astimezone(UTC),
                     weight, source, slot)

    def _capacity(self, user: str, start: datetime, end: datetime) -> float:
        """FTE-weighted fraction of [start, end) that `user` is on the rotation (and available, if PTO reduces share)."""
        joined, left = self.window[user]
        lo = max(start, joined) if joined else start
        hi = min(end, left) if left else end
        if hi <= lo:
            return 0.0
        span = (end - start).total_seconds()
        inside = (hi - lo).total_seconds()
        if self.rotation.rules.pto_reduces_share:
            for a_start, a_end, _, _ in self.away.get(user, ()):
                inside -= max(0.0, (min(hi, a_end) - max(lo, a_start)).total_seconds())
            inside = max(inside, 0.0)
        return self.members[user].fte * inside / span if span > 0 else 0.0

    def _distribute(self, weight: float, start: datetime, end: datetime) -> None:
        """Add `weight` of rotation burden to everyone's fair share, split by capacity over [start, end)."""
        if end <= start:
            end = start + timedelta(seconds=1)  # an instantaneous event: who was on the rotation then
        caps = [(u, self._capacity(u, start, end)) for u in self.order]
        total = sum(c for _, c in caps)
        if total <= 0:
            return
        for user, cap in caps:
            if cap:
                self.ledger[user].share += weight * cap / total

    def _book(self, shift: Shift) -> None:
        """Put a shift into the ledger: burden to its person, share to everyone."""
        if shift.user not in self.members:
            self.other_burden[shift.user] += shift.weight
            return
        line = self.ledger[shift.user]
        line.burden += shift.weight
        breakdown = self._weight_for(shift.user, shift.start, shift.end)
        line.hours = line.hours + breakdown
        if shift.role == SECONDARY:
            line.secondary_shifts += 1
        else:
            line.primary_shifts += 1
            self.heaviest = max(self.heaviest, shift.weight)
        self._distribute(shift.weight, shift.start, shift.end)

    def _book_event(self, event: BurdenEvent) -> None:
        if event.user not in self.members:
            self.other_burden[event.user] += event.weight
            return
        self.ledger[event.user].burden += event.weight
        self.ledger[event.user].events += 1
        self._distribute(event.weight, event.at, event.at)

    # -- constraints -----------------------------------------------------------------------------------

    def _reasons(self, user: str, role: str, k: int, pieces: list[tuple[datetime, datetime]],
                 taken: dict[str, str], extra: dict[str, set[int]] | None = None) -> list[tuple[str, str]]:
        """Hard-constraint breaches for `user` taking `role` in slot k; empty means eligible."""
        reasons: list[tuple[str, str]] = []
        start, end = pieces[0][0], pieces[-1][1]
        joined, left = self.window[user]
        if joined and start < joined:
            reasons.append(("not_member", f"not yet on the rotation (joins {self.members[user].joined})"))
        if left and end > left:
            reasons.append(("not_member", f"no longer on the rotation (left {self.members[user].left})"))
        for a_start, a_end, why, span in self.away.get(user, ()):
            if any(overlaps(a_start, a_end, ps, pe) for ps, pe in pieces):
                reasons.append(("unavailable", f"unavailable ({why}, {span})"))
                break
        other_role = [r for r, u in taken.items() if u == user and r != role]
        if other_role:
            reasons.append(("same_person", f"already {other_role[0]} for this shift"))
        if self.rest:
            slots = self.occupied.get(user)
            near = []
            for j in range(k - self.rest, k + self.rest + 1):
                if j == k:
                    continue
                if (slots and j in slots) or (extra and j in extra.get(user, ())):
                    near.append(j)
            if near:
                when = self.grid.boundary(near[0]).astimezone(self.tz).strftime("%Y-%m-%d %H:%M %Z")
                reasons.append(("rest", f"needs rest: on call in the shift starting {when} "
                                        f"(min_rest_shifts={self.rest})"))
        if self.window_slots:
            slots = self.occupied.get(user) or {}
            taken_near = {j for j in range(k - self.window_slots + 1, k + self.window_slots)
                          if j != k and (j in slots or (extra and j in extra.get(user, ())))}
            for a in range(k - self.window_slots + 1, k + 1):
                if sum(1 for j in taken_near if a <= j < a + self.window_slots) >= self.window_cap:
                    reasons.append(("rest", f"already has {self.window_cap} shift(s) within "
                                            f"{self.rotation.rules.max_shifts_in_window.window}"))
                    break
        if self.weekend_window and self._weekend_breach(user, k, extra):
            rule = self.rotation.rules.max_weekends_in_window
            reasons.append(("rest", f"already on call {rule.weekends} weekend(s) within {rule.window}"))
        return reasons

    def _init_weekend_rule(self, rotation: RotationConfig) -> None:
        rule = rotation.rules.max_weekends_in_window
        self.weekend_window = rule.window_weekends if rule else 0
        self.weekend_cap = rule.weekends if rule else 0
        self.week_slots = math.ceil(timedelta(weeks=1) / rotation.shift.step)  # grid slots per week, rounded up
        self._weekend_cache: dict[int, frozenset[int]] = {}

    def _weekends_near(self, indices: set[int]) -> dict[int, frozenset[int]]:
        """Weekends of every slot that can matter to the weekend rule for a block (none without the rule)."""
        if not self.weekend_window:
            return {}
        reach = self.weekend_reach()
        near = range(min(indices) - reach, max(indices) + reach + 1)
        return {j: w for j in near if (w := self.slot_weekends(j))}

    def slot_weekends(self, k: int) -> frozenset[int]:
        """Weekends slot k overlaps (rotation's zone), each named by its Saturday's ordinal // 7 (consecutive)."""
        hit = self._weekend_cache.get(k)
        if hit is None:
            slot = self.grid.slot(k)
            day = slot.start.astimezone(self.tz).date()
            last = (slot.end - timedelta(microseconds=1)).astimezone(self.tz).date()
            found = set()
            while day <= last:
                if day.weekday() >= 5:
                    found.add((day - timedelta(days=day.weekday() - 5)).toordinal() // 7)
                day += timedelta(days=1)
            hit = self._weekend_cache[k] = frozenset(found)
        return hit

    def weekend_reach(self) -> int:
        """How many slots either side can touch a weekend inside a window around slot k's weekends."""
        return (self.weekend_window + 1) * self.week_slots + 1

    def _weekend_breach(self, user: str, k: int, extra: dict[str, set[int]] | None) -> bool:
        """Would slot k put `user` on more than weekend_cap weekends of some weekend_window in a row?"""
        mine = self.slot_weekends(k)
        if not mine:
            return False
        slots = self.occupied.get(user) or {}
        reach = self.weekend_reach()
        worked: set[int] = set()
        for j in range(k - reach, k + reach + 1):
            if j != k and (j in slots or (extra and j in extra.get(user, ()))):
                worked |= self.slot_weekends(j)
        new = mine - worked
        worked |= mine
        n = self.weekend_window
        return any(sum(1 for v in worked if a <= v < a + n) > self.weekend_cap
                   for w in new for a in range(w - n + 1, w + 1))

    def _senior_ok(self, primary: str | None, secondary: str | None) -> bool:
        if not self.pair_senior or primary is None or secondary is None:
            return True
        return self._is_senior(primary) or self._is_senior(secondary)

    def _is_senior(self, user: str) -> bool:
        member = self.members.get(user)
        return bool(member and member.is_senior)

    # -- main loop -------------------------------------------------------------------------------------

    def run(self, start: datetime, end: datetime, explain_at: datetime | None) -> Plan:
        slots = self.grid.slots(start, end)
        plan_from = slots[0].start if slots else start
        explain_slot = self.grid.index_at(explain_at) if explain_at is not None else None
        # Ledger entries (fixed shifts, events) are booked in time order, interleaved with the slots.
        entries: list[tuple[datetime, int, object]] = [(s.start, 0, s) for s in self.fixed]
        entries += [(e.at, 1, e) for e in self.events]
        entries.sort(key=lambda t: (t[0], t[1]))
        self._entries, self._cursor = entries, 0

        for s in self.fixed:  # published shifts that now break a constraint (e.g. PTO added later)
            if s.source == "frozen" and s.user in self.members and s.end > plan_from:
                self._check_fixed(s)

        planned: list[Shift] = []
        # Pieces to plan per slot, computed up front so the lookahead can see what later slots need.
        self._pieces_cache: dict[int, dict[str, list[tuple[datetime, datetime]]]] = {}
        self._slots = {slot.index: slot for slot in slots}
        block = self.block_size()
        deadline = time.monotonic() + self.rotation.rules.solver_seconds
        solved = greedy_blocks = 0
        i = 0
        while i < len(slots):
            number = slots[i].index // block
            group = [s for s in slots[i:i + block] if s.index // block == number]
            solution = None
            if self.mode == "optimal":
                # The whole block is solved, also past `end`, so that the answer never depends on `end`.
                for k in range(group[-1].index + 1, (number + 1) * block):
                    self._slots.setdefault(k, self.grid.slot(k))
                solution = self._solve_block([self._slots[k] for k in range(group[0].index, (number + 1) * block)],
                                             deadline)
                solved += solution is not None
                greedy_blocks += solution is None
            for slot in group:
                self._book_until(slot.start)
                if explain_slot == slot.index:
                    self._record_fixed_decisions(slot, explain_at)
                explain = explain_slot == slot.index
                if solution is not None:
                    planned.extend(self._apply(slot, solution, explain))
                else:
                    planned.extend(self._assign(slot, explain))
            i += len(group)
        self._book_until(slots[-1].end if slots else end)

        shifts = [s for s in self.fixed if s.source != "history" and s.end > start and s.start < end]
        shifts += planned
        shifts.sort(key=lambda s: (s.start, ROLES.index(s.role) if s.role in ROLES else 9))
        result = Plan(self.rotation, start, end, shifts, self.violations, self.ledger, self.decisions, self.heaviest)
        if self.mode == "optimal":
            result.planner = OPTIMAL if not greedy_blocks else (
                f"greedy for {greedy_blocks} of {solved + greedy_blocks} blocks (fallback: the solver found no "
                f"plan within its time budget, or nobody could take a shift without breaking a rule)")
        return result

    def _book_until(self, limit: datetime) -> None:
        while self._cursor < len(self._entries) and self._entries[self._cursor][0] < limit:
            item = self._entries[self._cursor][2]
            self._book(item) if isinstance(item, Shift) else self._book_event(item)  # type: ignore[arg-type]
            self._cursor += 1

    # -- optimising planner ------------------------------------------------------------------------------

    def block_size(self) -> int:
        """Slots per optimisation block: about 13 weeks, at least 8 shifts."""
        return max(8, round(timedelta(days=BLOCK_DAYS) / self.rotation.shift.step))

    def _solve_block(self, block: list[Slot], deadline: float) -> dict[tuple[int, str], str] | None:
        """Describe the block to the solver and return {(slot, role): user}, or None to plan it greedily."""
        # Imported here: OR-Tools (with numpy and pandas) costs ~90 MB, which a process that never plans is spared.
        from bot.rotations.domain.optimizer import BlockProblem, solve_block

        remaining = deadline - time.monotonic()
        if remaining <= 0.05 or not block:
            return None
        indices = {s.index for s in block}
        needs: list[tuple[int, str]] = []
        eligible: dict[tuple[int, str], list[str]] = {}
        weight: dict[tuple[int, str, str], float] = {}
        share: dict[tuple[int, str], dict[str, float]] = {}
        previous: dict[tuple[int, str], str] = {}
        balanced: set[str] = set()
        unit = 0.0
        for slot in block:
            k = slot.index
            pieces = self._pieces(k)
            needed = [r for r in self.roles if pieces.get(r)]
            taken = {r: u for r in self.roles if (u := self._fixed_user(slot, r)) is not None and r not in needed}
            for role in needed:
                partner = taken.get(SECONDARY if role == PRIMARY else PRIMARY)
                options = [u for u in self.order if not self._reasons(u, role, k, pieces[role], taken) and (
                    self._senior_ok(u, partner) if role == PRIMARY else self._senior_ok(partner, u))]
                if not options:
                    return None  # nobody eligible: the greedy planner picks the least-bad and records why
                needs.append((k, role))
                eligible[(k, role)] = options
                factor = self.secondary_factor if role == SECONDARY else 1.0
                for user in options:
                    weight[(k, role, user)] = factor * sum(
                        self._weight_for(user, a, b).weight for a, b in pieces[role])
                lo, hi = pieces[role][0][0], pieces[role][-1][1]
                caps = {u: self._capacity(u, lo, hi) for u in self.order}
                total = sum(caps.values())
                share[(k, role)] = {u: c / total for u, c in caps.items() if c > 0} if total > 0 else {}
                balanced.update(u for u, c in caps.items() if c > 0)
                if (prev := self.previous.get((role, pieces[role][0][0]))) in options:
                    previous[(k, role)] = prev
                if role == PRIMARY:
                    unit = max(unit, self._reference_weight(k, role))
        if not needs:
            return {}  # everything in the block is already fixed (published shifts, overrides)
        offset = self._offset_at(block[-1].end)
        step = max(1, len(block) // 4)
        checkpoints = {slot.index: self._offset_at(slot.end) for slot in block[step - 1:-1:step]}
        busy = {u: {j for j in slots if j not in indices} for u, slots in self.occupied.items()}
        weekends = self._weekends_near(indices)
        hint = self._greedy_hint(block)
        problem = BlockProblem(
            needs=needs, eligible=eligible, weight=weight, share=share, offset=offset, balanced=balanced,
            seniors={u for u in self.order if self._is_senior(u)}, pair_senior=bool(self.pair_senior),
            rest=self.rest, busy=busy, window_slots=self.window_slots, window_cap=self.window_cap,
            weekend_window=self.weekend_window, weekend_cap=self.weekend_cap, weekends=weekends,
            previous=previous, unit=unit or 1.0, seconds=remaining,
            effort=max(0.15, self.rotation.rules.solver_seconds / BLOCK_EFFORT_SHARE), hint=hint,
            checkpoints=checkpoints,
        )
        solution = solve_block(problem)
        return solution.assignment if solution is not None else None

    def _greedy_hint(self, block: list[Slot]) -> dict[tuple[int, str], str]:
        """What the greedy planner would do in this block (on a copy of the state): the solver's first guess."""
        keep = {id(self.rotation): self.rotation, id(self.grid): self.grid, id(self.calc): self.calc,
                id(self.fixed): self.fixed, id(self.members): self.members, id(self.away): self.away,
                id(self.events): self.events, id(self._entries): self._entries, id(self.overrides): self.overrides}
        trial = copy.deepcopy(self, keep)
        trial.decisions, trial.violations = [], []
        guess: dict[tuple[int, str], str] = {}
        for slot in block:
            trial._book_until(slot.start)
            for shift in trial._assign(slot, explain=False):
                guess.setdefault((slot.index, shift.role), shift.user)
        return guess

    def _offset_at(self, limit: datetime) -> dict[str, float]:
        """burden - share per member once everything already fixed before `limit` is booked (a dry run)."""
        saved = (copy.deepcopy(self.ledger), dict(self.other_burden), self.heaviest, self._cursor)
        self._book_until(limit)
        offset = {u: line.burden - line.share for u, line in self.ledger.items()}
        self.ledger, other, self.heaviest, self._cursor = saved
        self.other_burden = defaultdict(float, other)
        return offset

    def _apply(self, slot: Slot, solution: dict[tuple[int, str], str], explain: bool) -> list[Shift]:
        """Book the solver's choice for one slot (same bookkeeping as a greedy choice)."""
        pieces = self._pieces(slot.index)
        needed = [r for r in self.roles if pieces.get(r)]
        if not needed:
            return []
        k = slot.index
        choice = {role: solution[(k, role)] for role in needed}
        taken = {r: u for r in self.roles if (u := self._fixed_user(slot, r)) is not None and r not in needed}
        order = self._preference(k) if explain else []
        out: list[Shift] = []
        for role in needed:
            user = choice[role]
            for piece_start, piece_end in pieces[role]:
                shift = self._make_shift(role, user, piece_start, piece_end, "planned", slot=k)
                self._book(shift)
                out.append(shift)
            self.occupied[user][k].add(role)
            self.last_slot[user] = k
        if explain:
            for role in needed:
                mine = self._before(choice[role], slot, self.ledger[choice[role]])
                notes = {}
                for u in order:
                    if u != choice[role]:
                        theirs = self._before(u, slot, self.ledger[u])
                        notes[(role, u)] = (
                            f"deficit {signed(theirs[1] - theirs[0])} vs {signed(mine[1] - mine[0])}: the fairest plan "
                            f"for these weeks gives {self._name(u)} other shifts, with the rest the rules require")
                decision = self._decision(slot, role, choice, pieces, order, notes, taken)
                decision.note = self._optimal_note(slot, role, decision)
                self.decisions.append(decision)
        return out

    def _optimal_note(self, slot: Slot, role: str, decision: Decision) -> str:
        """Why, in plain words: the chosen person's position against fair share, and who could not take it."""
        unit = self._reference_weight(slot.index, PRIMARY) or 1.0
        chosen = next(c for c in decision.candidates if c.user == decision.user)
        gap = (chosen.share - chosen.burden) / unit
        where = (f"{abs(gap):.1f} shifts below fair share" if gap > 0.05 else
                 f"{abs(gap):.1f} shifts above fair share" if gap < -0.05 else "at fair share")
        parts = [f"{chosen.name} is {where}"]
        away = [c.name for c in decision.candidates if c.status == "excluded"
                and any(r.startswith("unavailable") for r in c.reasons)]
        rested = [c.name for c in decision.candidates if c.status == "excluded"
                  and any(r.startswith(("needs rest", "already has")) for r in c.reasons)]
        if away:
            parts.append(f"{_names(away)} {'is' if len(away) == 1 else 'are'} away")
        if rested:
            parts.append(f"{_names(rested)} {'needs' if len(rested) == 1 else 'need'} rest after a recent shift")
        start = slot.start.astimezone(self.tz).date()
        return (f"{'; '.join(parts)}. The optimising planner chose the fairest plan for the weeks from {start} "
                f"that keeps every rule.")

    def _pieces(self, k: int) -> dict[str, list[tuple[datetime, datetime]]]:
        hit = self._pieces_cache.get(k)
        if hit is None:
            slot = self._slots.get(k) or self.grid.slot(k)
            hit = {}
            for role in self.roles:
                cuts = [c for c in self.fixed_by_role.get(role, ()) if overlaps(c[0], c[1], slot.start, slot.end)]
                hit[role] = subtract((slot.start, slot.end), cuts)
            self._pieces_cache[k] = hit
        return hit

    def _fixed_user(self, slot: Slot, role: str) -> str | None:
        for s in self.fixed:
            if s.role == role and s.start <= slot.start < s.end:
                return s.user
        return None

    def _preference(self, k: int) -> list[str]:
        """Members ordered best first: largest deficit, then longest rest, then user id."""
        def key(user: str) -> tuple:
            line = self.ledger[user]
            last = self.last_slot_before(user, k)
            return (-(line.share - line.burden), last, user)
        return sorted(self.order, key=key)

    def last_slot_before(self, user: str, k: int) -> int:
        """Index of the user's most recent slot before k (planned or fixed); very negative if none."""
        last = self.last_slot.get(user, _NEVER)
        fixed = self.fixed_slots.get(user)
        if fixed:
            i = bisect_left(fixed, k)
            if i:
                last = max(last, fixed[i - 1])
        return last

    def _assign(self, slot: Slot, explain: bool) -> list[Shift]:
        pieces = self._pieces(slot.index)
        needed = [r for r in self.roles if pieces.get(r)]
        if not needed:
            return []
        k = slot.index
        order = self._preference(k)
        taken = {r: u for r in self.roles if (u := self._fixed_user(slot, r)) is not None and r not in needed}
        choice, notes = self._choose(k, needed, pieces, order, taken)
        out: list[Shift] = []
        for role in needed:
            user = choice[role]
            for piece_start, piece_end in pieces[role]:
                shift = self._make_shift(role, user, piece_start, piece_end, "planned", slot=k)
                self._book(shift)
                out.append(shift)
            self.occupied[user][k].add(role)
            self.last_slot[user] = k
        if explain:
            for role in needed:
                self.decisions.append(self._decision(slot, role, choice, pieces, order, notes, taken))
        return out

    def _choose(self, k: int, needed: list[str], pieces: dict, order: list[str], taken: dict[str, str]):
        """Pick a user per needed role. Returns ({role: user}, notes) where notes explain non-choices."""
        notes: dict[tuple[str, str], str] = {}
        verdicts: dict[tuple[str, str], bool] = {}

        def ok(role: str, user: str) -> bool:
            # Eligibility is evaluated lazily: on big rotations only the first few candidates are checked.
            key = (role, user)
            if key not in verdicts:
                verdicts[key] = not self._reasons(user, role, k, pieces[role], taken)
            return verdicts[key]

        orders = {role: list(order) for role in needed}
        for role in needed:  # stability: prefer the previously planned person if it costs little fairness
            prev = self.previous.get((role, pieces[role][0][0]))
            if prev not in self.members or not ok(role, prev):
                continue
            best = next((u for u in order if ok(role, u)), None)
            if best is None or best == prev:
                continue
            best_line, line = self.ledger[best], self.ledger[prev]
            tolerance = STABILITY_TOLERANCE * self._reference_weight(k, role)
            if (line.share - line.burden) >= (best_line.share - best_line.burden) - tolerance:
                orders[role].remove(prev)
                orders[role].insert(0, prev)
                notes[(role, prev)] = "kept from the previous plan (stability)"
                notes[(role, best)] = f"the previous plan had {self._name(prev)} here and the fairness cost is small"

        fallback: dict[str, str] | None = None
        for combo in self._combos(needed, orders, ok, taken):
            if fallback is None:
                fallback = combo
            if self._lookahead_ok(k, combo):
                return combo, notes
            for role, user in combo.items():
                notes.setdefault((role, user), "would leave a following shift with nobody eligible")
        if fallback is not None:
            return fallback, notes
        return self._least_bad(k, needed, pieces, order, taken), notes

    def _combos(self, needed: list[str], orders: dict[str, list[str]], ok, taken: dict[str, str]):
        """Eligible assignments for the needed roles, best first (bounded, for speed on big rotations)."""
        limit = 25
        if len(needed) == 1:
            role = needed[0]
            partner = taken.get(SECONDARY if role == PRIMARY else PRIMARY)
            for user in orders[role]:
                if not ok(role, user):
                    continue
                if self._senior_ok(user, partner) if role == PRIMARY else self._senior_ok(partner, user):
                    yield {role: user}
                    limit -= 1
                    if not limit:
                        return
            return
        for p in orders[PRIMARY]:
            if not ok(PRIMARY, p):
                continue
            for s in orders[SECONDARY]:
                if s != p and ok(SECONDARY, s) and self._senior_ok(p, s):
                    yield {PRIMARY: p, SECONDARY: s}
                    limit -= 1
                    break  # best secondary for this primary; then try the next primary
            if not limit:
                return

    def _reference_weight(self, k: int, role: str) -> float:
        slot = self._slots.get(k) or self.grid.slot(k)
        weight = self.calc.compute(self.rotation.timezone, None, None, slot.start, slot.end).weight
        return weight * (self.secondary_factor if role == SECONDARY else 1.0)

    def _lookahead_ok(self, k: int, combo: dict[str, str]) -> bool:
        """Can the next min_rest+1 slots still be staffed if we take `combo` now? (small depth-first search)"""
        if not self.rest:
            return True
        extra: dict[str, set[int]] = defaultdict(set)
        for user in combo.values():
            extra[user].add(k)
        last = k + self.rest + 1
        return self._staffable(k + 1, last, extra)

    def _staffable(self, j: int, last: int, extra: dict[str, set[int]]) -> bool:
        if j > last or j not in self._slots:
            return True
        pieces = self._pieces(j)
        needed = [r for r in self.roles if pieces.get(r)]
        if not needed:
            return self._staffable(j + 1, last, extra)
        fixed_partner = {r: u for r in self.roles if r not in needed and (u := self._fixed_user(self._slots[j], r))}
        tried = 0
        for combo in self._lookahead_combos(j, needed, pieces, fixed_partner, extra):
            for user in combo.values():
                extra[user].add(j)
            good = self._staffable(j + 1, last, extra)
            for user in combo.values():
                extra[user].discard(j)
            if good:
                return True
            tried += 1
            if tried >= 6:  # bounded: this is a heuristic guard, not an exact solver
                return False
        return False

    def _lookahead_combos(self, j: int, needed: list[str], pieces: dict, taken: dict[str, str], extra):
        def ok(role: str, user: str) -> bool:
            return not self._reasons(user, role, j, pieces[role], taken, extra)

        if len(needed) == 1:
            role = needed[0]
            partner = taken.get(SECONDARY if role == PRIMARY else PRIMARY)
            for user in self.order:
                if ok(role, user) and (self._senior_ok(user, partner) if role == PRIMARY else self._senior_ok(partner, user)):
                    yield {role: user}
            return
        secondaries = [u for u in self.order if ok(SECONDARY, u)]
        for p in self.order:
            if not ok(PRIMARY, p):
                continue
            for s in secondaries:
                if s != p and self._senior_ok(p, s):
                    yield {PRIMARY: p, SECONDARY: s}
                    break

    def _least_bad(self, k: int, needed: list[str], pieces: dict, order: list[str], taken: dict[str, str]) -> dict[str, str]:
        """Nobody is fully eligible: choose the smallest breach and record violations."""
        choice: dict[str, str] = {}
        slot_taken = dict(taken)
        for role in needed:
            def badness(user: str) -> tuple:
                reasons = self._reasons(user, role, k, pieces[role], slot_taken)
                partner = slot_taken.get(SECONDARY if role == PRIMARY else PRIMARY)
                senior = (self._senior_ok(user, partner) if role == PRIMARY else self._senior_ok(partner, user))
                score = sum(_SEVERITY[kind] for kind, _ in reasons) + (0 if senior else _SEVERITY["seniority"])
                return (score, order.index(user))
            user = min(order, key=badness)
            reasons = self._reasons(user, role, k, pieces[role], slot_taken)
            partner = slot_taken.get(SECONDARY if role == PRIMARY else PRIMARY)
            if not (self._senior_ok(user, partner) if role == PRIMARY else self._senior_ok(partner, user)):
                reasons.append(("seniority", "no senior in this pair"))
            start, end = pieces[role][0][0], pieces[role][-1][1]
            for kind, message in reasons:
                self.violations.append(Violation(
                    kind, user, role, start, end,
                    f"{self.rotation.name} {role} {start.astimezone(self.tz).isoformat()}: nobody fully eligible; "
                    f"{self._name(user)} chosen although {message}",
                ))
            choice[role] = user
            slot_taken[role] = user
        return choice

    def _check_fixed(self, shift: Shift) -> None:
        k = self.grid.index_at(shift.start)
        for kind, message in self._reasons(shift.user, shift.role, k, [(shift.start, shift.end)], {}):
            if kind == "rest":
                continue  # published shifts are adjacent to themselves when split; rest is a planning rule
            self.violations.append(Violation(
                kind, shift.user, shift.role, shift.start, shift.end,
                f"{self.rotation.name} {shift.role} {shift.start.astimezone(self.tz).isoformat()}: published shift of "
                f"{self._name(shift.user)} but {message}; arrange a swap or override",
                source="frozen",
            ))

    # -- explanations ----------------------------------------------------------------------------------

    def _name(self, user: str) -> str:
        member = self.members.get(user)
        return member.display if member else user

    def _decision(self, slot: Slot, role: str, choice: dict[str, str], pieces: dict, order: list[str],
                  notes: dict, taken: dict[str, str]) -> Decision:
        chosen = choice[role]
        # The ledger now includes this slot; show the figures from *before* the assignment.
        candidates = []
        all_taken = {**taken, **{r: u for r, u in choice.items() if r != role}}
        for user in order:
            line = self.ledger[user]
            burden, share = self._before(user, slot, line)
            reasons = [msg for _, msg in self._reasons_before(user, role, slot.index, pieces[role], all_taken)]
            partner = all_taken.get(SECONDARY if role == PRIMARY else PRIMARY)
            if partner and not (self._senior_ok(user, partner) if role == PRIMARY else self._senior_ok(partner, user)):
                reasons.append(f"the pair with {self._name(partner)} would have no senior")
            if user == chosen:
                status = "chosen"
                why = notes.get((role, user))
                reasons = reasons if reasons else ([why] if why else [])
            elif reasons:
                status = "excluded"
            else:
                status = "not_chosen"
                chosen_line = self._before(chosen, slot, self.ledger[chosen])
                reasons = [notes.get((role, user)) or (
                    f"smaller deficit ({signed(share - burden)} vs {signed(chosen_line[1] - chosen_line[0])})"
                    if (share - burden) < (chosen_line[1] - chosen_line[0]) - 1e-9
                    else "equal deficit; lost the tie-break (rested less recently or later user id)")]
            candidates.append(CandidateNote(user, self._name(user), burden, share, status, reasons))
        start, end = pieces[role][0][0], pieces[role][-1][1]
        return Decision(role, chosen, start, end, "planned", candidates)

    def _before(self, user: str, slot: Slot, line: MemberLedger) -> tuple[float, float]:
        snap = self._snapshot.get(slot.index, {}) if hasattr(self, "_snapshot") else {}
        return snap.get(user, (line.burden, line.share))

    def _reasons_before(self, user, role, k, pieces, taken):
        # Remove this slot's own assignment from consideration so "rest" does not point at itself.
        saved = self.occupied.get(user, {}).get(k)
        if saved is not None:
            roles = self.occupied[user].pop(k)
        try:
            return self._reasons(user, role, k, pieces, taken)
        finally:
            if saved is not None:
                self.occupied[user][k] = roles

    def _record_fixed_decisions(self, slot: Slot, at: datetime) -> None:
        """Snapshot the ledger before this slot, and explain fixed (frozen/override/history) shifts at `at`."""
        self._snapshot = {slot.index: {u: (l.burden, l.share) for u, l in self.ledger.items()}}
        for s in self.fixed:
            if s.start <= at < s.end and s.role in self.roles:
                note = {
                    "frozen": "published shift inside the horizon: kept verbatim (only a swap or override moves it)",
                    "override": "explicit override: this person covers this period",
                    "history": "served shift from history",
                }.get(s.source, s.source)
                candidates = [
                    CandidateNote(u, self._name(u), l.burden, l.share, "chosen" if u == s.user else "not_chosen")
                    for u, l in self.ledger.items()
                ]
                self.decisions.append(Decision(s.role, s.user, s.start, s.end, s.source, candidates, note))


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def plan_start_for(rotation: RotationConfig, around: date | datetime) -> date:
    """Default planning origin: the rotation's `start:` anchor, else four weeks before `around`."""
    day = around.date() if isinstance(around, datetime) else around
    if rotation.start and rotation.start <= day:
        return rotation.start
    return day - timedelta(days=28)


def plan_window(
    rotation: RotationConfig,
    start: date | datetime,
    end: date | datetime,
    *,
    history: Sequence[ServedShift | Shift] = (),
    frozen: Sequence[Shift] = (),
    overrides: Sequence[Override] = (),
    swaps: Sequence[Swap] = (),
    extra_burden: Sequence[BurdenEvent] = (),
    previous: Sequence[Shift] = (),
) -> Plan:
    """Plan from the rotation's origin (its `start:` anchor, if earlier than `start`) and return the
    shifts overlapping [start, end); the ledger covers everything planned up to `end`.

    Planning from a fixed origin keeps a window's result independent of where the window begins.
    """
    tz = rotation.zone
    window_start, window_end = to_aware(start, tz), to_aware(end, tz)
    origin = window_start
    if rotation.start and to_aware(rotation.start, tz) < origin:
        origin = to_aware(rotation.start, tz)
    result = plan(rotation, origin, window_end, history=history, frozen=frozen, overrides=overrides,
                  swaps=swaps, extra_burden=extra_burden, previous=previous)
    result.shifts = [s for s in result.shifts if s.end > window_start and s.start < window_end]
    result.violations = [v for v in result.violations if v.end > window_start and v.start < window_end]
    result.start, result.end = window_start, window_end
    return result
