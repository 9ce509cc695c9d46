"""Coverage in the running app: the check on the scheduler leader at start-up (so after every config load) and
then daily (job `coverage:daily`, `bot.coverage.jobs:daily_check`), and after roster changes when the rotations
feature offers the `roster_changed` hook."""

from __future__ import annotations

from bot.context import AppContext
from bot.coverage import jobs, service


def install(ctx: AppContext) -> None:
    jobs.install(ctx)
    if ctx.config.rotations or ctx.config.escalation_policies:
        ctx.services.on_start.append(lambda: service.schedule_daily(ctx))
    hooks = getattr(ctx.services, "roster_changed", None)
    if hooks is not None:
        hooks.append(service.on_roster_changed)
