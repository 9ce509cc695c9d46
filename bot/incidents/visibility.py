"""Who may see a private incident, and where an incident may be announced.

Membership of a private incident is decided by Slack's `conversations.members` of its channel, not by the stored
participants: people are added to and removed from a private channel in Slack without the bot hearing of it (the
app does not subscribe to member events), and someone removed from the channel must stop seeing the incident at
once. The answer fails closed: when Slack cannot say (an error, no channel yet), nobody is treated as a member.
Public incidents are visible to everyone and cost no Slack call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.context import AppContext
from storage.models import Incident

if TYPE_CHECKING:  # bot.config imports the features; they only need its type
    from bot.config import FirewatchConfig

log = logging.getLogger(__name__)
MAX_MEMBER_PAGES = 20  # 20 × 1,000 members: far beyond any incident channel; bounds a misbehaving cursor


def announcement_target(config: FirewatchConfig, incident: Incident) -> str | None:
    """The channel the incident's declaration, updates and resolution are announced in, or None for nowhere.

    A private incident goes only to `incidents.private_announcements_channel` (when set), never to the public
    announcements channel."""
    if incident.private:
        return config.incidents.private_announcements_channel
    return config.incidents.announcements_channel


def announcement_allowed(config: FirewatchConfig, incident: Incident) -> bool:
    """True when the incident's stored announcement is in the channel it may be announced in (a private incident
    announced publicly by an older version is never updated or replied to there again)."""
    target = announcement_target(config, incident)
    return bool(target and incident.announcement_ts and incident.announcement_channel == target)


def channel_members(ctx: AppContext, channel_id: str | None) -> set[str]:
    """Members of a channel according to Slack; empty when Slack cannot tell (fail closed)."""
    if not channel_id:
        return set()
    members: set[str] = set()
    cursor = None
    try:
        for _ in range(MAX_MEMBER_PAGES):
            resp = ctx.slack.conversations_members(channel=channel_id, limit=1000, **({"cursor": cursor} if cursor else {}))
            members.update(resp.get("members") or [])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    except SlackApiError as exc:
        log.warning("could not read the members of %s (%s); treating private incident as hidden",
                    channel_id, exc.response.get("error"))
        return set()
    except Exception as exc:  # noqa: BLE001 - a network failure hides, it never reveals
        log.warning("could not read the members of %s (%s); treating private incident as hidden",
                    channel_id, exc.__class__.__name__)
        return set()
    return members


class Viewer:
    """Answers "may `user` see this incident?" for one reader, asking Slack at most once per channel."""

    def __init__(self, ctx: AppContext, user: str | None):
        self.ctx, self.user = ctx, user
        self._members: dict[str, set[str]] = {}

    def can_see(self, incident: Incident) -> bool:
        if not incident.private:
            return True
        if not self.user or not incident.channel_id:
            return False
        if incident.channel_id not in self._members:
            self._members[incident.channel_id] = channel_members(self.ctx, incident.channel_id)
        return self.user in self._members[incident.channel_id]


def visible_to(ctx: AppContext, incidents: Iterable[Incident], user: str | None) -> list[Incident]:
    """The incidents `user` may see: every public one, and private ones whose channel they are in."""
    viewer = Viewer(ctx, user)
    return [i for i in incidents if viewer.can_see(i)]


def public_only(incidents: Iterable[Incident]) -> list[Incident]:
    """For audiences that are not one person (a rotation's channel, an LLM prompt about another incident)."""
    return [i for i in incidents if not i.private]
