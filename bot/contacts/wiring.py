"""Contacts in the running app: notification rules on page hooks, the Twilio voice and heartbeat webhooks,
the heartbeat check on the scheduler leader, and `/oncall contact`."""

from __future__ import annotations

from bot.contacts import commands, jobs, routes, service
from bot.context import AppContext

HEARTBEAT_CHECK_SECONDS = 15.0


def install(ctx: AppContext) -> None:
    jobs.install(ctx)
    ctx.services.page_reached.append(service.on_page_reached)
    ctx.services.page_closed.append(service.on_page_closed)
    ctx.services.routes += routes.voice_routes(ctx) + routes.heartbeat_routes(ctx)
    ctx.services.oncall_commands["contact"] = commands.handle
    scheduler = ctx.services.scheduler
    if scheduler is not None and ctx.config.heartbeats:
        scheduler.add_leader_task("heartbeat-check", jobs.heartbeat_check, every=HEARTBEAT_CHECK_SECONDS)
