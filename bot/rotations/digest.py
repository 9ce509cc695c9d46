"""The weekly on-call digest (opt-in with `weekly_digest: true` on a rotation): last week's health per person
and the overdue follow-ups, posted to the rotation's channel. A job: it gathers, renders and posts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.context import AppContext
from bot.rotations import messages, service
from bot.rotations.domain.health import health_report
from storage.types import utcnow

log = logging.getLogger(__name__)
WEEK = timedelta(days=7)


@dataclass
class DigestResult:
    rotation: str
    sent: bool = False
    lines: list[str] = field(default_factory=list)
    problem: str | None = None


def digest_lines(ctx: AppContext, name: str, now: datetime | None = None) -> list[str]:
    """The digest of the week before `now` for rotation `name`."""
    from bot.followups.service import overdue_followups

    now = now or utcnow()
    rotation = service.rotation_config(ctx, name)
    tz = rotation.zone
    first, last = (now - WEEK).astimezone(tz).date(), now.astimezone(tz).date()
    # Seen from the week's start, the week's shifts are published rows (kept verbatim, overrides applied), not
    # history, which a plan does not list.
    result = service.schedule(ctx, name, now - WEEK - timedelta(days=1), now, now=now - WEEK)
    health = health_report(result, first, last, f"{first:%d %b} to {last - timedelta(days=1):%d %b %Y}")
    return messages.digest_lines(health, overdue_followups(ctx, now))


def send_weekly_digest(ctx: AppContext, name: str, now: datetime | None = None) -> DigestResult:
    """Post the digest if the rotation opted in and has a channel; says why not otherwise (never a false sent)."""
    result = DigestResult(name)
    rotation = service.rotation_config(ctx, name)
    if not rotation.weekly_digest or not rotation.channel:
        result.problem = ("weekly_digest is off" if not rotation.weekly_digest else "the rotation has no channel")
        return result
    result.lines = digest_lines(ctx, name, now)
    try:
        ctx.slack.chat_postMessage(channel=rotation.channel, text="\n".join(result.lines),
                                   blocks=messages.digest_blocks(result.lines))
        result.sent = True
    except Exception as exc:  # noqa: BLE001 - reported, and the next week's digest still runs
        result.problem = f"channel: {exc}"
        log.warning("weekly digest of %s not posted: %s", name, exc)
    return result


DIGEST_HOUR = 9  # Monday 09:00 in the rotation's zone: the start of the working week there


def digest_job_id(name: str) -> str:
    return f"digest:{name}"


def next_digest_time(zone, after: datetime) -> datetime:
    """The first Monday 09:00 (in `zone`) strictly after `after`."""
    local = after.astimezone(zone)
    monday = (local - timedelta(days=local.weekday())).replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    while monday <= local:
        monday += WEEK
    return monday


def schedule_weekly_digest(ctx: AppContext, name: str, after: datetime | None = None) -> datetime | None:
    """(Re)schedule `digest:<name>` for the next Monday morning when the rotation opted in (a rotation that opted
    out since has its stored job removed). Returns when."""
    scheduler = ctx.services.scheduler
    rotation = service.rotation_config(ctx, name)
    if scheduler is None:
        return None
    if not rotation.weekly_digest:
        scheduler.cancel(digest_job_id(name))
        return None
    when = next_digest_time(rotation.zone, max(after or utcnow(), utcnow()))
    scheduler.at(digest_job_id(name), when, "bot.jobs:weekly_digest", (name,), grace=6 * 3600)
    return when


def start_digests(ctx: AppContext) -> None:
    """On start: every opted-in rotation has its next digest scheduled."""
    for rotation in ctx.config.rotations:
        try:
            schedule_weekly_digest(ctx, rotation.name)
        except Exception:  # noqa: BLE001 - one broken rotation must not stop the others (or the server)
            log.exception("could not schedule the weekly digest of rotation %s", rotation.name)


def run_weekly_digest(ctx: AppContext, name: str) -> DigestResult:
    """The job: post this week's digest, then schedule next week's (even if this one could not be posted)."""
    try:
        return send_weekly_digest(ctx, name)
    finally:
        schedule_weekly_digest(ctx, name, utcnow() + timedelta(minutes=1))
