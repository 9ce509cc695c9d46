"""Error budgets and multi-window, multi-burn-rate alerting (Google SRE workbook, chapter 5).

A burn rate of 1 spends exactly the budget over the SLO window. The workbook pages when both the long and the short
window of a pair burn faster than the pair's threshold: 14.4 over 1 h and 5 m (2 % of a 30-day budget in an hour)
and 6 over 6 h and 30 m (5 % in six hours). The short window makes the status clear soon after the burn stops.
"""

from __future__ import annotations

from dataclasses import dataclass

FAST = ("1h", "5m", 14.4)
SLOW = ("6h", "30m", 6.0)
WINDOW_PAIRS = (FAST, SLOW)


def error_ratio(good: float, total: float) -> float:
    """Share of bad events; no traffic is no error."""
    if total <= 0:
        return 0.0
    return max(0.0, min(1.0, 1.0 - good / total))


def burn_rate(ratio: float, objective: float) -> float:
    """How many times faster than sustainable the budget burns."""
    return ratio / (1.0 - objective)


def budget_remaining(good: float, total: float, objective: float) -> float:
    """Fraction of the window's error budget left (1 = untouched, 0 = spent, negative = overspent)."""
    return 1.0 - burn_rate(error_ratio(good, total), objective)


@dataclass(frozen=True)
class BurnStatus:
    """Burn rates per window and the verdict: "fast burn", "slow burn" or "ok"."""

    rates: dict[str, float]
    status: str

    @property
    def paging(self) -> bool:
        return self.status != "ok"


def burn_status(ratios: dict[str, float], objective: float) -> BurnStatus:
    """Status from error ratios keyed by window ("1h", "5m", "6h", "30m"); a missing window counts as 0."""
    rates = {w: burn_rate(ratios.get(w, 0.0), objective) for w in ("1h", "5m", "6h", "30m")}
    for (long_w, short_w, limit), name in zip(WINDOW_PAIRS, ("fast burn", "slow burn")):
        if rates[long_w] > limit and rates[short_w] > limit:
            return BurnStatus(rates, name)
    return BurnStatus(rates, "ok")


# Objectives people actually pick; a suggestion is one of these, never an arbitrary 99.873 %.
STANDARD_OBJECTIVES = (0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999)
MIN_DAYS_MET = 0.9  # the suggested objective was met on at least 90 % of the days with traffic
MIN_DAYS = 7  # fewer days with traffic than this is too little history to suggest anything


@dataclass(frozen=True)
class TargetSuggestion:
    """A suggested objective from daily history: what was achieved and on how many days it was met."""

    objective: float
    achieved: float
    days_met: int
    days: int


def suggest_objective(daily: list[tuple[float, float]]) -> TargetSuggestion | None:
    """The highest standard objective at or below the period's achieved ratio that held on ≥ 90 % of the days.

    `daily` is (good, total) per day; days without traffic are left out. None with under a week of traffic or
    when not even 90 % was achieved."""
    days = [(g, t) for g, t in daily if t > 0]
    if len(days) < MIN_DAYS:
        return None
    achieved = sum(g for g, _ in days) / sum(t for _, t in days)
    for objective in reversed(STANDARD_OBJECTIVES):
        met = sum(1 for g, t in days if g / t >= objective)
        if objective <= achieved and met >= MIN_DAYS_MET * len(days):
            return TargetSuggestion(objective, achieved, met, len(days))
    return None
