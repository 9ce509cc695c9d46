"""The rotation rules: configuration, DST-safe shift grid, burden, planners, explanations, iCal, the `/oncall`
grammar.

Plain Python: no Slack or database imports. The Slack app and storage call the functions re-exported here.
"""

from bot.rotations.domain.burden import Burden, BurdenCalculator
from bot.rotations.domain.config import MemberConfig, RotationConfig, RulesConfig, ShiftConfig, UnavailabilityConfig
from bot.rotations.domain.engine import (
    MemberLedger,
    OnCall,
    Plan,
    apply_swap,
    diff_shifts,
    horizon_end,
    next_on_call,
    on_call_at,
    plan,
    plan_window,
    published,
    who_is_on,
)
from bot.rotations.domain.explain import Explanation, explain
from bot.rotations.domain.ical import to_ical
from bot.rotations.domain.models import (
    PRIMARY,
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
from bot.rotations.domain.report import FairnessReport, MemberFairness, fairness_report
from bot.rotations.domain.timeline import ShiftGrid, Slot, resolve_wall_time

__all__ = [
    "PRIMARY", "SECONDARY", "Burden", "BurdenCalculator", "BurdenEvent", "CandidateNote", "Decision",
    "Explanation", "FairnessReport", "MemberConfig", "MemberFairness", "MemberLedger", "OnCall", "Override",
    "Plan", "RotationConfig", "RulesConfig", "ServedShift", "Shift", "ShiftConfig", "ShiftGrid", "Slot", "Swap",
    "UnavailabilityConfig", "Violation", "apply_swap", "diff_shifts", "explain", "fairness_report",
    "horizon_end", "next_on_call", "on_call_at", "plan", "plan_window", "published", "resolve_wall_time",
    "to_ical", "who_is_on",
]
