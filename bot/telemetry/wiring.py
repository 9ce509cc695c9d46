"""Telemetry in the running app: metric and SLO-burn evidence (kind "metric") for triage/RCA with its re-checker,
the sparkline of what moved, uploaded after declare, and the weekly SLO digest (job `telemetry:slo-digest`,
`bot.telemetry.jobs:weekly_slo_digest`, scheduled at start-up for the next Monday 09:00 UTC)."""

from __future__ import annotations

from bot.context import AppContext
from bot.telemetry import jobs, service


def install(ctx: AppContext) -> None:
    jobs.install(ctx)
    ctx.services.evidence_sources.append(service.metric_evidence)
    ctx.services.evidence_sources.append(service.slo_evidence)
    ctx.services.evidence_checkers["metric"] = service.check_metric
    ctx.services.after_declare.append(service.after_declare)
    if hasattr(ctx.services, "summary_budget_lines"):  # the incident summary's budget lines, once the hook exists
        ctx.services.summary_budget_lines = service.budget_lines_for
    if service.digest_config(ctx) is not None:
        ctx.services.on_start.append(lambda: service.schedule_digest(ctx))
