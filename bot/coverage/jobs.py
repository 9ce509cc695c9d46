"""Scheduled entry point of the coverage feature, stored by textual reference (`"bot.coverage.jobs:daily_check"`):
this name and module path are a stored contract. The context is installed at start-up by `bot.coverage.wiring`."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
_context = None


def install(ctx) -> None:
    global _context
    _context = ctx


def daily_check() -> None:
    """At start-up, then daily, on the confirmed leader: check coverage and post new problem sets."""
    from bot.coverage.service import daily_check as run

    if _context is None:
        log.warning("job daily_check ran before the application context was installed; skipped")
        return
    if _context.leader_may_act("coverage_daily_check"):
        run(_context)
