"""Rotations in the running app: on-call lookups for paging and incident invites, `/oncall` and its swap buttons,
the iCal feed route, and shift handoffs (scheduled at start-up, then each one schedules the next)."""

from __future__ import annotations

from bot.context import AppContext
from bot.oncall import service


def install(ctx: AppContext) -> None:
    ctx.services["oncall_lookup"] = service.oncall_lookup
    ctx.services["oncall_for_incident"] = service.current_oncall_for_incident

    from bot.oncall import handoff, routes
    from bot.slack.listeners.actions import oncall_buttons
    from bot.slack.listeners.commands import oncall

    ctx.services.setdefault("listeners", []).extend([oncall.register, oncall_buttons.register])
    ctx.services.setdefault("routes", []).extend(routes.routes(ctx))
    ctx.services.setdefault("on_start", []).append(lambda: handoff.start_handoffs(ctx))
