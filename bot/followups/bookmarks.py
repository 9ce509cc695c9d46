"""Incident channel set-up from the service catalog: bookmarks (runbook, dashboards, video bridge, postmortem) and
the service owner's on-call invited. Runs as an after-declare hook: a failure is logged, never breaks a declare."""

from __future__ import annotations

import logging

from bot.catalog.domain import ServiceConfig, bookmark_links, bridge_link
from bot.context import AppContext
from bot.core.slack_errors import slack_error_code
from bot.followups import store
from bot.followups.service import incident_services
from bot.incidents import service as incident_service, store as incidents
from bot.postmortems.publishing import PublishResult
from bot.postmortems.service import link_for
from storage.models import Incident
from storage.types import utcnow

log = logging.getLogger(__name__)
PRIMARY = "primary"


def add_bookmarks(ctx: AppContext, incident_id: int, links: list[tuple[str, str, str]]) -> int:
    """Bookmark `(kind, title, link)` in the incident channel, each link once. Returns how many were added."""
    with ctx.session() as s:
        inc = incidents.get(s, incident_id)
        done = store.bookmarked(s, incident_id)
    if inc is None or not inc.channel_id:
        return 0
    added = 0
    for kind, title, link in links:
        if (kind, link) in done:
            continue
        try:
            resp = ctx.slack.bookmarks_add(channel_id=inc.channel_id, title=title[:255], type="link", link=link)
        except Exception as exc:  # noqa: BLE001 - e.g. missing_scope: the channel works without bookmarks
            log.warning("bookmark %s for incident %s not added: %s", kind, incident_id, slack_error_code(exc))
            continue
        with ctx.session() as s:
            store.record_bookmark(s, incident_id, kind, link, (resp.get("bookmark") or {}).get("id"))
        done.add((kind, link))
        added += 1
    return added


def on_declare(ctx: AppContext, incident_id: int) -> None:
    """After-declare hook: invite the services' owner on-call, then bookmark runbooks, dashboards and the bridge."""
    with ctx.session() as s:
        inc = incidents.get(s, incident_id)
        services = incident_services(ctx, s, inc) if inc else []
    if inc is None or not inc.channel_id:
        return
    _invite_owners(ctx, inc, services)
    links = [link for svc in services for link in bookmark_links(svc)]
    bridge = bridge_link(ctx.config.incidents.bridge_url, inc.number, inc.channel_id)
    if bridge:
        links.append(("bridge", "Video bridge", bridge))
    add_bookmarks(ctx, incident_id, links)


def _invite_owners(ctx: AppContext, inc: Incident, services: list[ServiceConfig]) -> None:
    lookup = ctx.services.oncall_lookup
    if lookup is None:
        return
    for svc in services:
        user = lookup(ctx, svc.owner, PRIMARY, utcnow()) if svc.owner else None
        if not user:
            continue
        try:
            ctx.slack.conversations_invite(channel=inc.channel_id, users=user)
        except Exception as exc:  # noqa: BLE001 - already_in_channel is the usual case
            log.debug("invite of %s's on-call: %s", svc.name, slack_error_code(exc))
            continue
        incident_service.post_in_channel(ctx, inc, f":wave: Invited <@{user}>, on call for *{svc.name}* "
                                         f"(rotation {svc.owner}).")


def bookmark_postmortems(ctx: AppContext) -> int:
    """Leader task: bookmark each newly published postmortem in its incident channel. Returns how many."""
    with ctx.session() as s:
        rows = [(inc.id, pm) for inc, pm in store.published_postmortems_without_bookmark(s)]
    added = 0
    for incident_id, pm in rows:
        result = PublishResult(path=pm.path or "", branch=pm.branch or "", commit_sha=pm.commit_sha or "",
                               pr_url=pm.pr_url, pushed=True)
        link = link_for(ctx, result)
        if link:
            added += add_bookmarks(ctx, incident_id, [("postmortem", "Postmortem", link)])
    return added
