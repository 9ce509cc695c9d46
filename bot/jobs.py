"""Entry points of scheduled jobs. They are pickled by reference into the job store, so these names and this
module path are a stored contract: rename them only with a migration of `apscheduler_jobs`. Arguments are
plain ids, never ORM objects or clients; the running context is installed at start-up."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)
_context = None


def install(ctx) -> None:
    """Make the running AppContext available to jobs in this process."""
    global _context
    _context = ctx


def _ctx():
    if _context is None:
        raise RuntimeError("job ran before the application context was installed")
    return _context


def _fenced(job: str) -> bool:
    """True if this process may act (see `AppContext.leader_may_act`)."""
    return _ctx().leader_may_act(job)


def page_timeout(page_id: int, pass_number: int, step_index: int) -> None:
    """A page's step timed out: escalate if it is still at that step and nobody acknowledged."""
    from bot.paging.flows import on_step_timeout

    if _fenced("page_timeout"):
        on_step_timeout(_ctx(), page_id, pass_number, step_index)


def page_sweep() -> None:
    """About every second on the leader: deliver steps recorded but not delivered, escalate steps whose timeout
    passed. The page rows are the source of truth, so a job lost with a dying process costs nothing."""
    from bot.paging.flows import sweep_due

    if _fenced("page_sweep"):
        sweep_due(_ctx())


def shift_handoff(rotation: str) -> None:
    """A shift boundary of `rotation`: send the handoff and schedule the next one."""
    from bot.rotations.handoff import run_handoff

    if _fenced("shift_handoff"):
        run_handoff(_ctx(), rotation)


def sweep() -> None:
    """Every few minutes on the leader: finish Slack set-up steps that failed (a Slack outage at declare time)
    and page for alerts stored but not yet processed, so neither waits for a restart or a person."""
    from bot.incidents.service import repair_all
    from bot.paging.intake import process_pending

    if not _fenced("sweep"):
        return
    ctx = _ctx()
    try:
        repaired = repair_all(ctx)
        if repaired:
            log.info("sweep: repaired incidents %s", repaired)
    finally:
        process_pending(ctx)


def page_retry(page_id: int, pass_number: int, step_index: int) -> None:
    """A page's DM failed for a transient reason: try the same step again (no escalation)."""
    from bot.paging.flows import on_retry

    if _fenced("page_retry"):
        on_retry(_ctx(), page_id, pass_number, step_index)


def weekly_digest(rotation: str) -> None:
    """Monday morning: the rotation's weekly digest (opt-in), then the next one is scheduled."""
    from bot.rotations.digest import run_weekly_digest

    if _fenced("weekly_digest"):
        run_weekly_digest(_ctx(), rotation)
