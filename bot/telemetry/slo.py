"""SLO status from Prometheus: remaining error budget over the SLO window and multi-window burn-rate status.

`good` and `total` are PromQL counting events over `$window` (e.g.
`sum(increase(http_requests_total{code!~"5.."}[$window]))`); each is evaluated once per window."""

from __future__ import annotations

from dataclasses import dataclass

from bot.telemetry.domain.config import PrometheusConfig, SloConfig
from bot.telemetry.domain.slo import BurnStatus, budget_remaining, burn_status, error_ratio
from bot.telemetry.prometheus import PrometheusClient, PrometheusError

BURN_WINDOWS = ("1h", "5m", "6h", "30m")


@dataclass(frozen=True)
class SloReport:
    slo: SloConfig
    budget_remaining: float | None
    burn: BurnStatus | None
    error: str | None = None


def _counts(prom: PrometheusClient, slo: SloConfig, window: str) -> tuple[float, float]:
    def value(expr: str) -> float:
        rows = prom.query(expr.replace("$window", window))
        return sum(v for _, v in rows)

    return value(slo.good), value(slo.total)


def slo_report(prom: PrometheusClient, slo: SloConfig) -> SloReport:
    """One SLO's budget and burn; a failing query gives a report carrying the error instead."""
    try:
        good, total = _counts(prom, slo, f"{slo.window_days}d")
        ratios = {w: error_ratio(*_counts(prom, slo, w)) for w in BURN_WINDOWS}
    except PrometheusError as exc:
        return SloReport(slo, None, None, str(exc))
    return SloReport(slo, budget_remaining(good, total, slo.objective), burn_status(ratios, slo.objective))


def report_lines(config: PrometheusConfig, slos: list[SloConfig], *, http_client=None) -> list[str]:
    """`firewatch slo report` output: one line per SLO."""
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
        return lines
    finally:
        prom.close()
