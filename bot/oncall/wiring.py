"""Rotations in the running app: on-call lookups for paging and incident invites."""

from __future__ import annotations

from bot.context import AppContext
from bot.oncall import service


def install(ctx: AppContext) -> None:
    ctx.services["oncall_lookup"] = service.oncall_lookup
    ctx.services["oncall_for_incident"] = service.current_oncall_for_incident
