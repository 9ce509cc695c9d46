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
