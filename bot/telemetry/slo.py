"""SLO status from Prometheus: remaining error budget over the SLO window and multi-window burn-rate status.

`good` and `total` are PromQL counting events over `$window` (e.g.
`sum(increase(http_requests_total{code!~"5.."}[$window]))`); each is evaluated once per window."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.telemetry.domain.config import PrometheusConfig, SloConfig
from bot.telemetry.domain.slo import (
    BurnStatus,
    TargetSuggestion,
    budget_remaining,
    burn_status,
    error_ratio,
    suggest_objective,
)
from bot.telemetry.prometheus import PrometheusClient, PrometheusError, PrometheusUnavailable

BURN_WINDOWS = ("1h", "5m", "6h", "30m")


@dataclass(frozen=True)
class SloReport:
    slo: SloConfig
    budget_remaining: float | None
    burn: BurnStatus | None
    error: str | None = None
    reachable: bool = True  # False: Prometheus did not answer at all (not just this SLO's queries failing)


def _counts(prom: PrometheusClient, slo: SloConfig, window: str, at: float | None = None) -> tuple[float, float]:
    def value(expr: str) -> float:
        rows = prom.query(expr.replace("$window", window), at)
        return sum(v for _, v in rows)

    return value(slo.good), value(slo.total)


def slo_report(prom: PrometheusClient, slo: SloConfig) -> SloReport:
    """One SLO's budget and burn; a failing query gives a report carrying the error instead."""
    try:
        good, total = _counts(prom, slo, f"{slo.window_days}d")
        ratios = {w: error_ratio(*_counts(prom, slo, w)) for w in BURN_WINDOWS}
    except PrometheusError as exc:
        return SloReport(slo, None, None, str(exc), reachable=not isinstance(exc, PrometheusUnavailable))
    return SloReport(slo, budget_remaining(good, total, slo.objective), burn_status(ratios, slo.objective))


HISTORY_DAYS = 28


def target_suggestion(prom: PrometheusClient, slo: SloConfig, *, now: float | None = None) -> TargetSuggestion | None:
    """A suggested objective from the last 28 days, one `[1d]` evaluation per day; None if it cannot be judged."""
    end = now if now is not None else time.time()
    try:
        daily = [_counts(prom, slo, "1d", end - day * 86400) for day in range(HISTORY_DAYS)]
    except PrometheusError:
        return None
    return suggest_objective(daily)


def suggestion_line(slo: SloConfig, s: TargetSuggestion | None) -> str:
    if s is None:
        return (f"  {slo.name}: no target suggestion (fewer than 7 days with traffic in the last {HISTORY_DAYS}, "
                "under 90% achieved, or Prometheus could not answer)")
    return (f"  {slo.name}: suggested objective {s.objective:.2%} (a suggestion, not applied): achieved "
            f"{s.achieved:.3%} over the last {HISTORY_DAYS} days, met on {s.days_met} of {s.days} days with traffic")


def report_lines(config: PrometheusConfig, slos: list[SloConfig], *, http_client=None,
                 now: float | None = None) -> list[str]:
    """`firewatch slo report` output: one line per SLO, then a suggested objective per SLO from 28 days."""
    prom = PrometheusClient(config, http_client=http_client)
    try:
        lines = []
        for slo in slos:
            r = slo_report(prom, slo)
            head = f"{slo.name} ({slo.service or 'no service'}, objective {slo.objective:.3%} over {slo.window_days}d)"
            if r.error:
                lines.append(f"{head}: unavailable: {r.error}")
                continue
            rates = " ".join(f"{w} {r.burn.rates[w]:.1f}x" for w in BURN_WINDOWS)
            lines.append(f"{head}: budget left {r.budget_remaining:.1%} · burn {rates} · {r.burn.status}")
        suggestions = [suggestion_line(slo, target_suggestion(prom, slo, now=now)) for slo in slos]
        return lines + ["Target suggestions from history:", *suggestions]
    finally:
        prom.close()
