"""Follow-up use cases: create (with its tracker issue), list, sync upstream state, catch up, nudge for updates."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.catalog.domain import ServiceConfig, declared_service, services_in_title
from bot.context import AppContext
from bot.core.durations import format_duration, parse_duration
from bot.core.metrics import JOBS
from bot.core.slack_errors import slack_error_code
from bot.followups import catchup, messages, store, trackers
from bot.followups.domain import (Tracker, age_text, choose_tracker, followup_overdue, issue_title, sla_for,
                                  update_overdue)
from bot.incidents import service as incident_service, store as incidents, visibility
from bot.followups.webhooks import UpstreamChange
from bot.incidents.domain import ROLES
from bot.incidents.messages import incident_label
from storage.models import Incident
from storage.types import utcnow

log = logging.getLogger(__name__)
UPDATE_KINDS = ("update", "status", "severity", "role", "resolved", "declared", "followup_done")
QUESTION_KINDS = ("note", "message")


def incident_services(ctx: AppContext, session, incident: Incident) -> list[ServiceConfig]:
    """The catalog services of an incident: named at declare (`checkout: ...`), then its alerts' service labels,
    then services whose name appears in the title; each once."""
    names = [n for n in [declared_service(incident.title, ctx.config.services)] if n]
    names += store.alert_services(session, incident) + services_in_title(incident.title, ctx.config.services)
    found: list[ServiceConfig] = []
    for name in names:
        svc = ctx.config.service(name)
        if svc is not None and svc not in found:
            found.append(svc)
    return found


def incident_tracker(ctx: AppContext, session, incident: Incident) -> Tracker | None:
    """The tracker of the incident's first service that has one (see `incident_services`), else
    `followups.default_tracker`."""
    found = [svc.tracker for svc in incident_services(ctx, session, incident)]
    return choose_tracker(found, ctx.config.followups.default_tracker)


def _incident_url(ctx: AppContext, incident: Incident) -> str:
    return f"https://slack.com/app_redirect?channel={incident.channel_id}"


def followup_command(ctx: AppContext, incident: Incident, cmd, user: str, respond) -> None:
    """Record a follow-up and open its GitHub/Jira issue when the incident's service has a tracker.

    `/incident followup [kind] <text> [@owner]`; the channel message links the issue or says why there is none."""
    incident_service.add_followup(ctx, incident, cmd, user, respond,
                                  describe=lambda inc, item: _with_issue(ctx, inc, item, user))


def _with_issue(ctx: AppContext, inc: Incident, item, user: str) -> str:
    """Open the follow-up's tracker issue (never for a private incident); the channel line says where it is."""
    with ctx.session() as s:
        tracker = incident_tracker(ctx, s, inc)
    url, problem = None, None
    if tracker is not None and inc.private:
        problem = messages.PRIVATE
    elif tracker is not None:
        url, problem = _open_issue(ctx, inc, tracker, item.id, item.text, item.owner_id, user)
    return messages.followup_posted_text(item.id, item.kind, item.owner_id, item.text, url,
                                         tracker.label if tracker else None, problem)


def _open_issue(ctx, incident, tracker: Tracker, item_id: int, text: str, owner: str | None, user: str):
    label = incident_label(incident, ctx.prefix)
    draft = trackers.IssueDraft(title=issue_title(label, text), text=text, incident_label=label,
                                incident_url=_incident_url(ctx, incident), owner=_owner_name(ctx, owner))
    try:
        created = trackers.create_issue(ctx.config.followups, tracker, draft)
    except trackers.TrackerError as exc:
        log.warning("follow-up #%s: %s", item_id, exc)
        return None, str(exc)
    with ctx.session() as s:
        store.record_issue(s, item_id, tracker=tracker.kind, project=tracker.project, key=created.key, url=created.url,
                           actor=user)
    return created.url, None


def _owner_name(ctx: AppContext, owner: str | None) -> str | None:
    """The owner's Slack name for the tracker (it cannot render `<@U…>`), the id when Slack cannot say."""
    if not owner:
        return None
    try:
        profile = ctx.slack.users_info(user=owner)["user"]
        return profile.get("real_name") or profile.get("name") or owner
    except Exception as exc:  # noqa: BLE001 - a name is a nicety; the id still identifies the owner
        log.debug("users.info %s: %s", owner, slack_error_code(exc))
        return owner


def followups_command(ctx: AppContext, incident: Incident, cmd, user: str, respond) -> None:
    """list this incident's open follow-ups with owner, age and issue link (only to you).

    `/incident followups`."""
    now = utcnow()
    sla = sla_for(ctx.config.followups.sla, incident.severity)
    with ctx.session() as s:
        inc = incidents.get(s, incident.id)
        rows = [(item.id, item.text, item.owner_id, age_text(item.created_at, now), issue.url if issue else None,
                 followup_overdue(item.created_at, None, sla, now))
                for item, issue in store.open_followups(s, inc)]
    label = incident_label(inc, ctx.prefix)
    respond(response_type="ephemeral", text=f"Open follow-ups of {label}: {len(rows)}",
            blocks=messages.followups_blocks(label, rows))


def remind_overdue(ctx: AppContext, now: datetime | None = None) -> list[int]:
    """DM the owner of each follow-up open longer than its severity's `followups.sla` (the incident channel when it
    has no owner), once per SLA period. Returns the follow-up ids reminded."""
    now = now or utcnow()
    sla = ctx.config.followups.sla
    with ctx.session() as s:
        due = [(item.id, item.text, item.owner_id, item.created_at, inc, issue.url if issue else None)
               for item, inc, issue, reminded in store.open_followups_everywhere(s)
               if followup_overdue(item.created_at, reminded, sla_for(sla, inc.severity), now)]
    reminded: list[int] = []
    for item_id, text, owner, created_at, inc, url in due:
        line = messages.overdue_text(item_id, incident_label(inc, ctx.prefix), inc.severity, text,
                                     age_text(created_at, now), sla[inc.severity], url)
        try:
            # Private incidents: the owner was in the channel, so a DM reveals nothing new to them.
            target = ctx.slack.conversations_open(users=owner)["channel"]["id"] if owner else inc.channel_id
            ctx.slack.chat_postMessage(channel=target, text=line)
        except Exception as exc:  # noqa: BLE001 - not recorded, so tried again at the next run
            log.warning("overdue reminder for follow-up #%s: %s", item_id, slack_error_code(exc))
            continue
        with ctx.session() as s:
            store.record_reminder(s, item_id, now)
        reminded.append(item_id)
    return reminded


def overdue_followups(ctx: AppContext, now: datetime | None = None) -> list[dict]:
    """Open follow-ups past their SLA, for the weekly digest (`bot.rotations.digest`) and `firewatch followups
    overdue`: `{id, incident, severity, sla, text, owner, age, url}`, oldest first.
    Private incidents are left out (the digest goes to a shared channel)."""
    now = now or utcnow()
    sla = ctx.config.followups.sla
    with ctx.session() as s:
        rows = store.open_followups_everywhere(s)
    return [{"id": item.id, "incident": incident_label(inc, ctx.prefix), "severity": inc.severity,
             "sla": sla.get(inc.severity), "text": item.text, "owner": item.owner_id,
             "age": age_text(item.created_at, now), "url": issue.url if issue else None}
            for item, inc, issue, _ in rows
            if not inc.private and followup_overdue(item.created_at, None, sla_for(sla, inc.severity), now)]


def sync_issues(ctx: AppContext) -> int:
    """Check every open tracker issue upstream; closed there -> the follow-up is done here. Returns how many closed."""
    with ctx.session() as s:
        pending = [(i.id, i.tracker, i.project, i.key) for i in store.issues_to_sync(s)]
    closed = 0
    for issue_id, kind, project, key in pending:
        try:
            is_closed = trackers.is_closed(ctx.config.followups, Tracker(kind, project), key)
        except trackers.TrackerError as exc:
            log.warning("follow-up issue %s %s#%s not synced: %s", kind, project, key, exc)
            continue
        if _apply(ctx, issue_id, closed=is_closed, via="periodic check"):
            closed += 1
    return closed


def _apply(ctx: AppContext, issue_id: int, *, closed: bool, via: str) -> bool:
    """Mark the follow-up done/open as upstream says, and tell its channel when that changed it."""
    with ctx.session() as s:
        item = store.mark_upstream(s, issue_id, closed=closed, via=via)
        incident = incidents.get(s, item.incident_id) if item else None
    if item is None:
        return False
    text = (f":white_check_mark: Follow-up #{item.id} is done (its issue was closed upstream)." if closed else
            f":arrows_counterclockwise: Follow-up #{item.id} is open again (its issue was reopened upstream).")
    incident_service.post_in_channel(ctx, incident, text)
    return True


def apply_webhook(ctx: AppContext, change: UpstreamChange) -> str:
    """Apply a verified tracker webhook: "applied", "unchanged" (already in that state), "duplicate" (a redelivery)
    or "ignored" (no follow-up has this issue)."""
    with ctx.session() as s:
        issue = store.issue_by_key(s, change.tracker, change.project, change.key)
        if issue is None:
            return "ignored"
        issue_id = issue.id
        if change.delivery_id and not store.first_delivery(s, change.delivery_id, change.tracker):
            return "duplicate"
    return "applied" if _apply(ctx, issue_id, closed=change.closed, via=f"{change.tracker} webhook") else "unchanged"


def catchup_command(ctx: AppContext, incident: Incident, cmd, user: str, respond) -> None:
    """what happened so far: status, roles, latest updates and open questions (only to you).

    `/incident catchup`. Drafted by the LLM when one is configured (cited, checked), else from the timeline."""
    with ctx.session() as s:
        inc = incidents.get(s, incident.id)
        held = incidents.roles(s, inc)
        updates = [(e.at, e.text) for e in store.recent_events(s, inc, UPDATE_KINDS, 6)]
        questions = [e.text for e in store.recent_events(s, inc, QUESTION_KINDS, 20) if "?" in e.text][-3:]
        open_count = len(store.open_followups(s, inc))
        entries = [catchup.Entry(e.at, e.kind, e.text, e.actor_id) for e in incidents.timeline(s, inc)]
    label = incident_label(inc, ctx.prefix)
    drafted = None
    # A private incident's timeline stays in Slack: never sent to a model.
    if ctx.services.llm is not None and not inc.private:
        drafted = catchup.draft(ctx.services.llm, entries, catchup.facts_text(label, inc.title, inc.severity,
                                                                               inc.status))
    blocks = messages.catchup_blocks(label=label, title=inc.title, severity=inc.severity, status=inc.status,
                                     declared_at=inc.created_at, roles={r: held.get(r) for r in ROLES},
                                     updates=updates, questions=questions, open_followups=open_count,
                                     drafted=drafted)
    respond(response_type="ephemeral", text=f"Catch-up: {label} — {inc.status}", blocks=blocks)


def nudge_updates(ctx: AppContext, now: datetime | None = None) -> list[int]:
    """Remind each open incident's channel whose commander posted no update for its severity's
    `incidents.update_reminder`. Returns the incident ids nudged."""
    now = now or utcnow()
    reminders = ctx.config.incidents.update_reminder
    nudged: list[int] = []
    with ctx.session() as s:
        due = []
        for inc in incidents.list_open(s):
            if inc.severity not in reminders or not inc.channel_id:
                continue
            threshold = parse_duration(reminders[inc.severity])
            last = store.last_update_at(s, inc)
            if update_overdue(last, store.last_nudge_at(s, inc.id), threshold, now):
                due.append((inc, format_duration(now - last), incidents.roles(s, inc)))
    for inc, silent_for, held in due:
        try:
            ctx.slack.chat_postMessage(channel=inc.channel_id, text=messages.nudge_text(held.get("commander"), silent_for),
                                       blocks=messages.nudge_blocks(inc.id, held.get("commander"), silent_for,
                                                                    [r for r in ROLES if r not in held]))
        except Exception as exc:  # noqa: BLE001 - retried at the next run: the nudge is not recorded
            log.warning("update nudge for incident %s: %s", inc.id, slack_error_code(exc))
            continue
        with ctx.session() as s:
            store.record_nudge(s, inc.id, now)
        nudged.append(inc.id)
    return nudged


def update_refusal(ctx: AppContext, incident_id: int, user: str, text: str) -> str | None:
    """Why `user` may not post this update from the nudge modal, or None: people in the incident channel,
    participants and admins may."""
    if not text.strip():
        return "Write the update first."
    with ctx.session() as s:
        inc = incidents.get(s, incident_id)
        if inc is None:
            return "This incident no longer exists."
        if incidents.is_participant(s, inc, user) or user in ctx.config.admins:
            return None
    if user in visibility.channel_members(ctx, inc.channel_id):
        return None
    return f"Only people in {incident_label(inc, ctx.prefix)}'s channel can post its updates; join it first."


def post_update(ctx: AppContext, incident_id: int, user: str, text: str) -> None:
    """The nudge modal's update, recorded and broadcast like `/incident update` (after `update_refusal`)."""
    with ctx.session() as s:
        inc = incidents.get(s, incident_id)
        event = incidents.add_timeline(s, inc, "update", text.strip(), actor=user)
    incident_service.broadcast_update(ctx, inc, user, text.strip(), timeline_event_id=event.id)


def run_job(name: str, func, ctx: AppContext) -> None:
    """A leader task: failures are logged and counted, never raised into the scheduler loop."""
    try:
        func(ctx)
        JOBS.labels(name, "ok").inc()
    except Exception:  # noqa: BLE001
        log.exception("%s failed", name)
        JOBS.labels(name, "error").inc()
