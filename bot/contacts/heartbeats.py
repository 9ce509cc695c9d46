"""Heartbeats (dead man's switches): a beat refreshes one; one past `interval + grace` pages its policy once,
and the page is resolved, with a note in the policy's channel, when beats come back."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.contacts import store
from bot.contacts.domain.config import HeartbeatConfig
from bot.context import AppContext
from bot.core.durations import format_duration
from storage.types import utcnow

log = logging.getLogger(__name__)


def config_for(ctx: AppContext, name: str) -> HeartbeatConfig | None:
    return next((h for h in ctx.config.heartbeats if h.name == name), None)


def alert_key(name: str) -> str:
    return f"heartbeat:{name}"


def beat(ctx: AppContext, name: str, now: datetime | None = None) -> dict:
    """Record a beat; if the heartbeat had been missed, resolve its page and say it is back."""
    now = now or utcnow()
    with ctx.session() as s:
        row = store.heartbeat_for_update(s, name)
        missed_at, page_id, previous = row.missed_at, row.missed_page_id, row.last_beat_at
        row.last_beat_at, row.missed_at, row.missed_page_id = now, None, None
        s.add(row)
    if missed_at is not None and previous is not None:
        _came_back(ctx, name, page_id, now - previous)
    return {"recovered": missed_at is not None}


def _came_back(ctx: AppContext, name: str, page_id: int | None, silent_for) -> None:
    from bot.paging import flows

    note = f"Heartbeat `{name}` is back after {format_duration(silent_for)} of silence."
    if page_id is not None:
        try:
            # Paging posts the resolution, with this note, in the policy's channel: one message, not two.
            if flows.resolve(ctx, page_id, actor=None, note=note, by_alert=True):
                return
        except Exception:  # noqa: BLE001 - the beat is recorded; the page can still be resolved by hand
            log.exception("heartbeat %s: could not resolve page %s", name, page_id)
    _tell_policy_channel(ctx, name, note)


def _tell_policy_channel(ctx: AppContext, name: str, text: str) -> None:
    heartbeat = config_for(ctx, name)
    policy = ctx.config.policy(heartbeat.policy) if heartbeat else None
    if policy is None or not policy.channel:
        return
    try:
        ctx.slack.chat_postMessage(channel=policy.channel, text=text)
    except Exception as exc:  # noqa: BLE001 - a notice, not the page itself
        log.warning("heartbeat %s: could not post to %s (%s)", name, policy.channel, exc.__class__.__name__)


def check_all(ctx: AppContext, now: datetime | None = None) -> list[str]:
    """Page for every heartbeat past its deadline and not already paged; returns the names paged now."""
    now = now or utcnow()
    return [h.name for h in ctx.config.heartbeats if _check(ctx, h, now)]


def _check(ctx: AppContext, heartbeat: HeartbeatConfig, now: datetime) -> bool:
    with ctx.session() as s:
        row = store.heartbeat_for_update(s, heartbeat.name)
        if row.last_beat_at is None:
            # Never beaten since configured: the clock starts now rather than paging at once on first start.
            row.last_beat_at = now
            s.add(row)
            return False
        if row.missed_at is not None or now - row.last_beat_at <= heartbeat.deadline:
            return False
        row.missed_at = now
        last = row.last_beat_at
        s.add(row)
    page_id = _page(ctx, heartbeat, last, now)
    with ctx.session() as s:
        row = store.heartbeat_for_update(s, heartbeat.name)
        if row.missed_at is not None:
            # A page that could not be opened is retried at the next check rather than lost.
            row.missed_page_id = page_id
            if page_id is None:
                row.missed_at = None
            s.add(row)
    return page_id is not None


def _page(ctx: AppContext, heartbeat: HeartbeatConfig, last: datetime, now: datetime) -> int | None:
    from bot.paging import flows
    from bot.paging.messages import PageContent

    content = PageContent(
        title=f"Heartbeat {heartbeat.name} missed",
        details=(f"No beat for {format_duration(now - last)} (expected every {format_duration(heartbeat.interval)}"
                 f", grace {format_duration(heartbeat.grace)}). The alert pipeline itself may be down: alerts "
                 "may not be reaching Firewatch."),
        source="heartbeat")
    try:
        return flows.create_page(ctx, policy_name=heartbeat.policy, content=content, requester=None,
                                 source="heartbeat", channel_id=None, alert_key=alert_key(heartbeat.name))
    except Exception:  # noqa: BLE001 - recorded as missed either way; logged loudly for the operator
        log.exception("heartbeat %s missed, but the page to %s failed", heartbeat.name, heartbeat.policy)
        return None
