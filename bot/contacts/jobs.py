"""Scheduled entry points of the contacts feature, stored by textual reference (`"bot.contacts.jobs:notify_step"`):
these names and this module path are a stored contract. Arguments are plain ids; the context is installed at
start-up by `bot.contacts.wiring`."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
_context = None


def install(ctx) -> None:
    global _context
    _context = ctx


def _may_run(job: str) -> bool:
    """Only the confirmed scheduler leader acts (a deposed leader's job store may still fire)."""
    if _context is None:
        log.warning("job %s ran before the application context was installed; skipped", job)
        return False
    return _context.leader_may_act(job)


def notify_step(page_id: int, user_id: str, step_index: int, pass_number: int = 1) -> None:
    """One notification rule step for a person a page reached (re-checks that the page is still open)."""
    from bot.contacts.service import run_step

    if _may_run("notify_step"):
        run_step(_context, page_id, user_id, step_index, pass_number=pass_number)


def heartbeat_check() -> None:
    """About every 15 s on the leader: page for heartbeats past interval + grace."""
    from bot.contacts.heartbeats import check_all

    if _may_run("heartbeat_check"):
        check_all(_context)
