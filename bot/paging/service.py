"""Paging use cases a person starts from Slack, with their authorisation: page someone, acknowledge a page,
escalate a page. The state changes themselves are `bot.paging.flows`; this module decides who may ask for them.

Who may stop or move an escalation (Acknowledge / Escalate): the people the page was sent to (its
`PageNotification` rows), the commander of the page's incident, and the admins in `firewatch.yaml`. Anyone else
is refused and the escalation carries on untouched."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import select

from bot.context import AppContext
from bot.core.slack_errors import slack_error_code
from bot.paging import flows
from bot.paging.domain.escalation import Position
from storage.models import Incident, PageNotification, PageRecord

log = logging.getLogger(__name__)

# Slack errors meaning "no such person here" (as opposed to Slack being briefly unreachable).
_UNKNOWN_USER_ERRORS = {"user_not_found", "user_not_visible", "account_inactive"}


@dataclass(frozen=True)
class PageActionResult:
    """What a button press did: `refused` (not allowed, nothing changed), else `changed` and the text to show."""

    text: str
    changed: bool = False
    refused: bool = False


def may_act_on_page(ctx: AppContext, page_id: int, user: str) -> bool:
    """Whether `user` may acknowledge or escalate page `page_id` (see the module docstring)."""
    if user in ctx.config.admins:
        return True
    with ctx.session() as s:
        row = s.get(PageRecord, page_id)
        if row is None:
            return True  # nothing to protect; flows answers "does not exist"
        notified = s.exec(select(PageNotification.id).where(PageNotification.page_id == page_id,
                                                            PageNotification.user_id == user)).first()
        if notified is not None:
            return True
        if row.incident_id is not None:
            incident = s.get(Incident, row.incident_id)
            if incident is not None and incident.commander_id == user:
                return True
    return False


def _refusal(page_id: int) -> str:
    return (f"Only the people page `{page_id}` was sent to, the incident's commander and admins can do that; "
            "the escalation goes on.")


def acknowledge_page(ctx: AppContext, page_id: int, user: str) -> PageActionResult:
    """Someone pressed Acknowledge."""
    if not may_act_on_page(ctx, page_id, user):
        log.info("page %s: acknowledge by %s refused (not notified, not commander, not admin)", page_id, user)
        return PageActionResult(_refusal(page_id), refused=True)
    changed, text = flows.acknowledge(ctx, page_id, user)
    return PageActionResult(text, changed=changed)


def escalate_page(ctx: AppContext, page_id: int, user: str, expected: Position | None) -> PageActionResult:
    """Someone pressed Escalate."""
    if not may_act_on_page(ctx, page_id, user):
        log.info("page %s: escalate by %s refused (not notified, not commander, not admin)", page_id, user)
        return PageActionResult(_refusal(page_id), refused=True)
    return PageActionResult(flows.escalate(ctx, page_id, user, expected), changed=True)


def unknown_user_problem(ctx: AppContext, user: str) -> str | None:
    """A message saying why `user` cannot be paged (not in this workspace, deactivated), or None.

    When Slack cannot answer right now the page goes ahead: a transient error must not block a real page."""
    try:
        info = ctx.slack.users_info(user=user)
    except Exception as exc:  # noqa: BLE001 - classified below
        code = slack_error_code(exc)
        if code in _UNKNOWN_USER_ERRORS:
            return f"I can't find <@{user}> in this workspace, so nobody was paged"
        log.warning("could not look up %s before paging (%s); paging anyway", user, code)
        return None
    person = info.get("user") or {}
    if person.get("deleted"):
        return f"<@{user}> is deactivated, so nobody was paged"
    return None
