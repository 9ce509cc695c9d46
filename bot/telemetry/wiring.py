"""Telemetry in the running app: metric and SLO-burn evidence (kind "metric") for triage/RCA with its re-checker,
and the sparkline of what moved, uploaded after declare."""

from __future__ import annotations

from bot.context import AppContext
from bot.telemetry import service


def install(ctx: AppContext) -> None:
    ctx.services.evidence_sources.append(service.metric_evidence)
    ctx.services.evidence_sources.append(service.slo_evidence)
    ctx.services.evidence_checkers["metric"] = service.check_metric
    ctx.services.after_declare.append(service.after_declare)
