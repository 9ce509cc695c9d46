"""The optimising planner: window independence, explain agreeing with preview, rhythm rules, fallback, fairness."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from bot.rotations.domain import diff_shifts, explain, fairness_report, plan, plan_window, published
from bot.rotations.domain.engine import OPTIMAL
from bot.rotations.domain.timeline import to_aware
from tests.rotations.factory import member, rotation

LEAVE = [{"user": "U0M01", "start": "2027-02-01", "end": "2027-02-15", "reason": "PTO"},
         {"user": "U0M03", "start": "2027-03-08", "end": "2027-03-12", "reason": "PTO"}]


def key(shift):
    return (shift.role, shift.start, shift.end, shift.user)


def test_previews_from_different_start_dates_agree_on_every_shared_shift():
    rot = rotation(5, unavailability=LEAVE)
    windows = [(date(2027, 1, 4), date(2027, 3, 1)), (date(2027, 1, 20), date(2027, 4, 12)),
               (date(2027, 2, 10), date(2027, 3, 20))]
    plans = [plan_window(rot, a, b) for a, b in windows]
    assert all(p.planner == OPTIMAL for p in plans)
    for i, first in enumerate(plans):
        for second in plans[i + 1:]:
            lo, hi = max(first.start, second.start), min(first.end, second.end)
            shared = lambda p: sorted(key(s) for s in p.shifts if s.start >= lo and s.end <= hi)
            assert shared(first) and shared(first) == shared(second)


def test_explain_names_the_same_person_as_the_preview_and_says_why_in_words():
    rot = rotation(5, unavailability=LEAVE)
    preview = plan_window(rot, date(2027, 1, 4), date(2027, 3, 1))
    for day in (5, 12, 19, 26, 40, 47):
        at = to_aware(datetime(2027, 1, 4, 15) + timedelta(days=day), rot.zone)
        explanation = explain(rot, at)
        assert explanation.decisions[0].user == preview.on_call(at).user
    at = to_aware(datetime(2027, 2, 3, 15), rot.zone)
    text = explain(rot, at).render()
    assert "fair share" in text and "M01 is away" in text  # U0M01 is on PTO then
    assert "optimising planner" in text


def test_max_shifts_in_window_and_no_back_to_back_hold():
    rules = {"min_rest_shifts": 0, "no_back_to_back": True, "max_shifts_in_window": {"shifts": 2, "window": "7d"}}
    rot = rotation(5, unavailability=LEAVE[:1], rules=rules)  # 4 left x 2 a week >= 7 daily shifts
    result = plan(rot, date(2027, 1, 4), date(2027, 4, 5))
    assert result.planner == OPTIMAL and not result.violations
    primary = [s for s in result.shifts if s.role == "primary"]
    for a, b in zip(primary, primary[1:]):
        assert a.user != b.user
    for i in range(len(primary) - 6):
        week = Counter(s.user for s in primary[i:i + 7])
        assert max(week.values()) <= 2, (primary[i].start, week)


def test_return_from_leave_is_spread_more_than_by_the_greedy_planner():
    # Without a window rule the optimiser still spreads the repayment of leave debt (a rhythm penalty);
    # the greedy planner repays it as fast as the rest rule allows: every other day.
    rot = rotation(4, unavailability=LEAVE[:1])
    returned = to_aware(date(2027, 2, 15), rot.zone)

    def every_other_day(result) -> int:
        back = [s for s in result.shifts if s.user == "U0M01" and s.start >= returned]
        return [(b.start - a.start).days for a, b in zip(back, back[1:])].count(2)

    optimal = plan(rot, date(2027, 1, 4), date(2027, 4, 5))
    greedy = plan(rot, date(2027, 1, 4), date(2027, 4, 5), planner="greedy")
    assert every_other_day(greedy) >= 6  # the "4 x 24 h shifts in 7 days" after leave
    assert every_other_day(optimal) <= 1


def test_window_rule_is_validated():
    with pytest.raises(ValueError, match="shifts must be 1 or more"):
        rotation(4, rules={"max_shifts_in_window": {"shifts": 0, "window": "7d"}})
    with pytest.raises(ValueError, match="window"):
        rotation(4, rules={"max_shifts_in_window": {"shifts": 2, "window": "seven days"}})
    with pytest.raises(ValueError, match="planner"):
        rotation(4, rules={"planner": "clever"})


def test_optimiser_keeps_a_senior_in_every_pair():
    members = [member("U0ANA", seniority="senior"), member("U0BEN", seniority="junior"),
               member("U0CAT", seniority="senior"), member("U0DAN", seniority="junior"),
               member("U0EVE", seniority="senior"), member("U0FAY", seniority="junior")]
    rot = rotation(members, secondary=True, rules={"senior_in_every_pair": True},
                   unavailability=[{"user": "U0ANA", "start": "2027-01-18", "end": "2027-01-25"}])
    result = plan(rot, date(2027, 1, 4), date(2027, 3, 1))
    assert result.planner == OPTIMAL and not result.violations
    by_start: dict = {}
    for s in result.shifts:
        by_start.setdefault(s.start, {})[s.role] = s.user
    for pair in by_start.values():
        assert pair["primary"] != pair["secondary"]
        assert {"U0ANA", "U0CAT", "U0EVE"} & set(pair.values())


def test_optimiser_is_at_least_as_fair_as_greedy_after_leave():
    rot = rotation(5, unavailability=LEAVE)
    optimal = fairness_report(plan(rot, date(2027, 1, 4), date(2027, 4, 5)))
    greedy = fairness_report(plan(rot, date(2027, 1, 4), date(2027, 4, 5), planner="greedy"))
    assert optimal.max_dev <= greedy.max_dev + 1e-9
    assert optimal.max_dev <= 0.5 * optimal.heaviest_shift


def test_greedy_fallback_is_named_when_nobody_is_eligible():
    # Everyone away on the same day: no plan keeps every rule, so that block is planned greedily with violations.
    everyone = [{"user": f"U0M0{i}", "start": "2027-01-20", "end": "2027-01-21"} for i in range(3)]
    result = plan(rotation(3, unavailability=everyone), date(2027, 1, 4), date(2027, 2, 1))
    assert result.planner.startswith("greedy for 1 of")
    assert {v.kind for v in result.violations} == {"unavailable"}
    assert plan(rotation(3), date(2027, 1, 4), date(2027, 2, 1), planner="greedy").planner == "greedy"


def test_roster_change_keeps_the_horizon_and_moves_fewer_shifts_with_the_previous_plan():
    rot = rotation(6)
    now = to_aware(date(2027, 1, 4), rot.zone)
    before = plan(rot, date(2027, 1, 4), date(2027, 3, 1))
    frozen = published(before.shifts, rot, now)
    grown = rotation(6 + 1)  # a new member joins
    kept = plan(grown, date(2027, 1, 4), date(2027, 3, 1), frozen=frozen, previous=before.shifts)
    fresh = plan(grown, date(2027, 1, 4), date(2027, 3, 1), frozen=frozen)
    limit = now + rot.horizon_delta
    assert [key(s) for s in kept.shifts if s.start < limit] == [key(s) for s in frozen]
    moved, moved_fresh = len(diff_shifts(before.shifts, kept.shifts)), len(diff_shifts(before.shifts, fresh.shifts))
    # The newcomer must get about a seventh of the shifts beyond the horizon; each such shift is one move.
    newcomer = sum(1 for s in kept.shifts if s.user == "U0M06")
    assert newcomer >= 3 and moved < moved_fresh and moved <= 2 * newcomer + 2


@pytest.mark.parametrize("change", ["remove", "leave"])
def test_remove_and_leave_keep_the_horizon_and_move_few_shifts_beyond_it(change):
    rot = rotation(6)
    now = to_aware(date(2027, 1, 4), rot.zone)
    before = plan(rot, date(2027, 1, 4), date(2027, 3, 1))
    frozen = published(before.shifts, rot, now)
    changed = (rotation([member(f"U0M{i:02d}") for i in range(5)]) if change == "remove" else
               rotation(6, unavailability=[{"user": "U0M02", "start": "2027-02-01", "end": "2027-02-08"}]))
    kept = plan(changed, date(2027, 1, 4), date(2027, 3, 1), frozen=frozen, previous=before.shifts)
    fresh = plan(changed, date(2027, 1, 4), date(2027, 3, 1), frozen=frozen)
    limit = now + rot.horizon_delta
    assert [key(s) for s in kept.shifts if s.start < limit] == [key(s) for s in frozen]
    moved, moved_fresh = len(diff_shifts(before.shifts, kept.shifts)), len(diff_shifts(before.shifts, fresh.shifts))
    # Measured (optimal blocks): remove 7 vs 33, leave 1 vs 34 of 42 shifts beyond the horizon; on a loaded
    # machine where blocks fall back to the greedy planner, 15 and 8. Removing a member must move their shifts
    # (about a sixth); a week of leave at least the shifts in it.
    assert 2 * moved < moved_fresh
    away = (limit, kept.end) if change == "remove" else (to_aware(date(2027, 2, 1), rot.zone),
                                                          to_aware(date(2027, 2, 8), rot.zone))
    gone_user = "U0M05" if change == "remove" else "U0M02"
    assert not kept.violations
    assert not [s for s in kept.shifts if s.user == gone_user and s.source == "planned" and s.end > away[0]
                and s.start < away[1]]


def test_explain_and_fairness_output_name_the_planner():
    rot = rotation(4)
    at = to_aware(datetime(2027, 1, 20, 12), rot.zone)
    assert explain(rot, at).as_dict()["planner"] == OPTIMAL
    assert f"planned by: {OPTIMAL}" in explain(rot, at).render()
    greedy = fairness_report(plan(rot, date(2027, 1, 4), date(2027, 2, 1), planner="greedy"))
    assert greedy.as_dict()["planner"] == "greedy" and "planner: greedy" in greedy.render()
