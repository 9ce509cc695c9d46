"""`rules.max_weekends_in_window`: a hard rule in both planners, checked independently of the engine."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest

from bot.rotations.domain import explain, plan
from bot.rotations.domain.engine import OPTIMAL
from bot.rotations.domain.timeline import to_aware
from tests.rotations.factory import rotation

RULE = {"weekends": 1, "window": "3w"}


def weekends_worked(result) -> dict[str, set[date]]:
    """Per person, the Saturdays of the weekends (Sat 00:00 - Mon 00:00 local) any of their shifts overlaps."""
    tz = result.rotation.zone
    out: dict[str, set[date]] = defaultdict(set)
    for s in result.shifts:
        day, last = s.start.astimezone(tz).date(), (s.end - timedelta(microseconds=1)).astimezone(tz).date()
        while day <= last:
            if day.weekday() >= 5:
                out[s.user].add(day - timedelta(days=day.weekday() - 5))
            day += timedelta(days=1)
    return out


def worst_window(result, weeks: int = 3) -> int:
    """Most weekends one person works within any `weeks` consecutive weekends."""
    worst = 0
    for saturdays in weekends_worked(result).values():
        for first in saturdays:
            worst = max(worst, sum(1 for d in saturdays if first <= d < first + timedelta(weeks=weeks)))
    return worst


@pytest.mark.parametrize("planner", ["optimal", "greedy"])
def test_daily_rotation_works_at_most_one_weekend_in_three(planner):
    # Three daily 10:00 shifts touch each weekend (Fri-Sat, Sat-Sun, Sun-Mon): 9 people are the minimum.
    free = rotation(10)
    assert worst_window(plan(free, date(2027, 1, 4), date(2027, 4, 5), planner=planner)) > 1  # the rule matters
    ruled = rotation(10, rules={"max_weekends_in_window": RULE})
    result = plan(ruled, date(2027, 1, 4), date(2027, 4, 5), planner=planner)
    assert not result.violations
    assert worst_window(result) == 1
    if planner == "optimal":
        assert result.planner == OPTIMAL


@pytest.mark.parametrize("planner", ["optimal", "greedy"])
def test_weekly_rotation_of_four_with_one_weekend_in_four_is_a_strict_cycle(planner):
    weekly = {"length": "1w", "handoff_time": "10:00", "handoff_day": "mon"}
    ruled = rotation(4, shift=weekly, rules={"max_weekends_in_window": {"weekends": 1, "window": "28d"}})
    result = plan(ruled, date(2027, 1, 4), date(2027, 7, 5), planner=planner)
    assert not result.violations and worst_window(result, weeks=4) == 1
    users = [s.user for s in result.shifts]
    assert all(users[i] == users[i + 4] for i in range(len(users) - 4))


def test_explain_says_the_weekend_rule_in_words():
    ruled = rotation(10, rules={"max_weekends_in_window": RULE, "planner": "greedy"})
    at = to_aware(datetime(2027, 1, 16, 12), ruled.zone)  # Saturday of the second weekend
    text = explain(ruled, at).render()
    assert "weekend(s) within 3w" in text


@pytest.mark.parametrize(("rule", "message"), [
    ({"weekends": 0, "window": "3w"}, "weekends must be 1 or more"),
    ({"weekends": 1, "window": "10d"}, "not a whole number of weeks"),
    ({"weekends": 1, "window": "three weeks"}, "window"),
])
def test_weekend_rule_is_validated(rule, message):
    with pytest.raises(ValueError, match=message):
        rotation(10, rules={"max_weekends_in_window": rule})
