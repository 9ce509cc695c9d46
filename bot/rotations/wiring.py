"""Rotations in the running app: on-call lookups for paging and incident invites, the iCal feed route, and shift handoffs (scheduled at start-up, then each one schedules the next)."""

from __future__ import annotations

from bot.context import AppContext
from bot.rotations import service


def install(ctx: AppContext) -> None:
    ctx.services.oncall_lookup = service.oncall_lookup
    ctx.services.oncall_for_incident = service.current_oncall_for_incident

    from bot.rotations import handoff, routes
    ctx.services.routes.extend(routes.routes(ctx))
    ctx.services.on_start.append(lambda: handoff.start_handoffs(ctx))
    from bot.rotations import digest
    ctx.services.on_start.append(lambda: digest.start_digests(ctx))
