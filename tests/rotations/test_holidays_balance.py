"""`rules.balance_holidays`: holiday hours within one shift's hours of fair share per country group.

Holiday hours are counted here from the plan's shifts and the holidays package directly, not from the engine's
ledger, so the test checks the rule independently of the bookkeeping that enforces it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import holidays
import pytest

from bot.rotations.domain import explain, plan
from bot.rotations.domain.engine import OPTIMAL
from bot.rotations.domain.models import ServedShift
from bot.rotations.domain.timeline import to_aware
from tests.rotations.factory import member, rotation

START, END = date(2027, 1, 4), date(2028, 1, 3)
PEOPLE = 6
SHIFT_HOURS = 24
# Holidays weigh nothing extra in the burden here (e.g. they are paid separately), so fairness of burden alone
# does not spread them: this is where holidays fall unevenly without the rule.
NO_HOLIDAY_WEIGHT = {"weights": {"holiday": 0}}


def team(**rules):
    people = [member(f"U0M{i:02d}", country="GB", subdivision="ENG") for i in range(PEOPLE)]
    return rotation(people, rules={**NO_HOLIDAY_WEIGHT, **rules})


def holiday_hours(result) -> dict[str, float]:
    return holiday_hours_of(result.shifts, result.rotation.zone)


def holiday_hours_of(shifts, tz) -> dict[str, float]:
    """Hours each person is on call on an English public holiday (local days in `tz`)."""
    days = set(holidays.country_holidays("GB", subdiv="ENG", years=[2026, 2027, 2028]))
    out: dict[str, float] = defaultdict(float)
    for s in shifts:
        cursor = s.start.astimezone(tz)
        while cursor < s.end:
            midnight = to_aware(cursor.date() + timedelta(days=1), tz)
            piece_end = min(midnight, s.end.astimezone(tz))
            if cursor.date() in days:
                out[s.user] += (piece_end - cursor).total_seconds() / 3600
            cursor = piece_end
    return out


def max_deviation(result) -> float:
    """Largest |holiday hours - fair share|; everyone is full time all year, so the share is total / people."""
    hours = holiday_hours(result)
    users = {m.user for m in result.rotation.members}
    share = sum(hours.values()) / len(users)
    return max(abs(hours.get(u, 0.0) - share) for u in users)


def test_without_the_rule_holidays_fall_unevenly():
    result = plan(team(), START, END, planner="greedy")
    assert sum(holiday_hours(result).values()) == 250  # 8 English holidays in the plan's days, some partial
    assert max_deviation(result) > SHIFT_HOURS  # measured: 31.7 h (10 h for one person, 58 h for three)


@pytest.mark.parametrize("planner", ["optimal", "greedy"])
def test_holiday_hours_stay_within_one_shift_of_fair_share(planner):
    result = plan(team(balance_holidays=True), START, END, planner=planner)
    assert not result.violations
    assert max_deviation(result) <= SHIFT_HOURS
    if planner == "optimal":
        assert result.planner == OPTIMAL


@pytest.mark.parametrize("planner", ["greedy"])
def test_history_counts_towards_holiday_hours(planner):
    # U0M00 already worked the whole Christmas of 2026 (Christmas, Boxing Day and its substitute Monday).
    ruled = team(balance_holidays=True)
    tz = ruled.zone
    served = [ServedShift("U0M00", to_aware(datetime(2026, 12, 24, 10), tz), to_aware(datetime(2026, 12, 29, 10), tz))]
    past = holiday_hours_of(served, tz)["U0M00"]
    assert past == 72
    result = plan(ruled, START, END, history=served, planner=planner)
    hours = holiday_hours(result)
    share = (past + sum(hours.values())) / PEOPLE
    assert past + hours["U0M00"] - share <= SHIFT_HOURS
    assert hours["U0M00"] < min(hours[u] for u in hours if u != "U0M00")  # paid back through fewer holidays


def test_explain_says_in_plain_words_who_has_had_their_holiday_share():
    ruled = team(balance_holidays=True, planner="greedy")
    text = explain(ruled, to_aware(datetime(2027, 5, 3, 12), ruled.zone)).render()
    assert "has already worked 24 holiday hours, more than a fair share of 10" in text


@pytest.mark.parametrize("value", ["sometimes", 2, "null"])
def test_balance_holidays_is_validated(value):
    with pytest.raises(ValueError, match="balance_holidays must be true or false"):
        team(balance_holidays=value)
