"""Paging in the running app: alert webhooks, and the start-up sweep of pending alerts."""

from __future__ import annotations

from bot.context import AppContext
from bot.paging import webhooks


def install(ctx: AppContext) -> None:
    ctx.services.routes += webhooks.routes(ctx)
    # Alerts stored but not yet paged (the process stopped in between) are finished at start-up.
    ctx.services.on_start.append(lambda: webhooks.start_processing(ctx))
