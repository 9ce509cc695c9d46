"""Shared set-up for the `/oncall` tests: a three-person London rotation with a channel and a user group."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.rotations import handoff, service
from storage.models import PublishedShift
from storage.types import utcnow
from bot.devtools.signed_requests import SlackSender
from tests.conftest import ALICE, ANNOUNCE, BOB, SIGNING_SECRET

CAROL = "U0CAROL"
CHANNEL = "C0PAYONCALL"
USERGROUP = "S0PAYONCALL"
LONDON = ZoneInfo("Europe/London")
MEMBERS = (ALICE, BOB, CAROL)

ROTATION = {
    "name": "payments", "timezone": "Europe/London",
    "shift": {"length": "1d", "handoff_time": "10:00"},
    "channel": CHANNEL, "usergroup": USERGROUP,
    "members": [{"user": u, "name": n, "timezone": "Europe/London", "country": "GB"}
                for u, n in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol"))],
    "rules": {"min_rest_shifts": 1},
}
CONFIG = {
    "admins": [ALICE],
    "incidents": {"announcements_channel": ANNOUNCE, "channel_prefix": "inc"},
    "rotations": [ROTATION],
}


def config(**incidents) -> dict:
    cfg = copy.deepcopy(CONFIG)
    cfg["incidents"].update(incidents)
    return cfg


def start(harness_factory, cfg: dict | None = None, **settings):
    h = harness_factory(cfg or config(), **settings)
    if CAROL not in h.fake.users:
        h.fake.add_user(CAROL, "Carol")
    if CHANNEL not in h.fake.channels:
        h.fake.add_channel(CHANNEL, "payments-oncall")
    return h


def oncall(h, text: str, user: str = ALICE, channel: str = "C0GENERAL") -> dict:
    """Send `/oncall text`; return the ephemeral reply (the ack's text, or the post to this command's own
    response_url, so replies to other commands are never mistaken for it)."""
    name = f"oncall-{next(_replies)}"
    sender = SlackSender(h.running.url, SIGNING_SECRET, response_url=h.fake_server.response_url(name))
    try:
        resp = sender.command("/oncall", text, user=user, channel=channel)
    finally:
        sender.close()
    assert resp.status_code == 200, resp.text
    if resp.content and resp.headers.get("content-type", "").startswith("application/json") and resp.json().get("text"):
        return resp.json()
    return h.fake.wait_for(lambda f: next((r for r in f.responses if r["path"] == f"/response/{name}"), None))


def text_of(message: dict) -> str:
    """Everything a person would read in a message: its text and its blocks' text."""
    parts = [message.get("text") or ""]
    for block in message.get("blocks") or []:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"].get("text", ""))
        for element in block.get("elements") or []:
            if isinstance(element, dict) and isinstance(element.get("text"), str):
                parts.append(element["text"])
    return "\n".join(parts)


def shifts(h) -> list[PublishedShift]:
    with h.ctx.session() as s:
        return list(s.exec(select(PublishedShift).where(PublishedShift.rotation == "payments")
                           .order_by(col(PublishedShift.start))))


def future_shifts(h, user: str) -> list[PublishedShift]:
    now = utcnow()
    return [r for r in shifts(h) if r.user_id == user and r.start > now]


def next_boundary(h) -> datetime:
    return handoff.next_boundary(h.ctx, "payments", utcnow())


def local(dt: datetime) -> str:
    return dt.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def channel_messages(h, channel: str = CHANNEL, contains: str = "") -> list[dict]:
    return [m for m in h.fake.messages(channel) if contains in text_of(m)]


def dm_channel(h, user: str) -> str | None:
    ch = h.fake.channel_by_name(f"im-{user}")
    return ch["id"] if ch else None


def burden(h) -> dict[str, float]:
    from bot.rotations.domain import fairness_report, horizon_end

    now = utcnow()
    cfg = service.rotation_config(h.ctx, "payments")
    report = fairness_report(service.schedule(h.ctx, "payments", now, horizon_end(cfg, now), now=now))
    return {m.user: m.burden for m in report.members}


HOUR = timedelta(hours=1)
_replies = itertools.count(1)
