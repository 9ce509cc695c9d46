"""Scheduled entry point of the telemetry feature, stored by textual reference
(`"bot.telemetry.jobs:weekly_slo_digest"`): this name and module path are a stored contract. The context is
installed at start-up by `bot.telemetry.wiring`."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
_context = None


def install(ctx) -> None:
    global _context
    _context = ctx


def weekly_slo_digest() -> None:
    """Every Monday 09:00 UTC, on the confirmed leader: post each SLO's budget and burn, then reschedule."""
    from bot.telemetry.service import weekly_slo_digest as run

    if _context is None:
        log.warning("job weekly_slo_digest ran before the application context was installed; skipped")
        return
    if _context.leader_may_act("telemetry_weekly_slo_digest"):
        run(_context)
