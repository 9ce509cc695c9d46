"""Paging in the running app: `/page`, page buttons, alert webhooks, and the start-up sweep of pending alerts."""

from __future__ import annotations

from bot.context import AppContext
from bot.paging import webhooks


def install(ctx: AppContext) -> None:
    from bot.slack.listeners.actions import page_buttons
    from bot.slack.listeners.commands import page

    ctx.services["listeners"] += [page.register, page_buttons.register]
    ctx.services["routes"] += webhooks.routes(ctx)
    # Alerts stored but not yet paged (the process stopped in between) are finished at start-up.
    ctx.services["on_start"].append(lambda: webhooks.start_processing(ctx))
