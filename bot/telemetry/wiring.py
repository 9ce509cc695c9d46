"""Telemetry in the running app: metric evidence for triage/RCA and its re-checker (kind "metric")."""

from __future__ import annotations

from bot.context import AppContext
from bot.telemetry import service


def install(ctx: AppContext) -> None:
    ctx.services.evidence_sources.append(service.metric_evidence)
    ctx.services.evidence_checkers["metric"] = service.check_metric
