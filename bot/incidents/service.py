"""Incident flows that span the database and Slack.

The record is written first, then each Slack step runs and its result is stored at once. A step that fails
leaves the record with what is still missing (`missing_steps`), which `/incident repair`, a retried command or the
start-up sweep finishes: never a channel without a record, never a record silently missing its channel.
"""

from __future__ import annotations

import logging
from slack_sdk.errors import SlackApiError

from bot.context import AppContext
from bot.core.slack_dates import slack_date
from bot.core.slack_errors import slack_error_code
from bot.incidents import messages, store as service
from bot.incidents.visibility import announcement_allowed, announcement_target
from bot.incidents.domain import channel_name, topic_text, ts_to_datetime
from bot.safety import neutralize_broadcasts
from storage.models import Incident

log = logging.getLogger(__name__)
MAX_NAME_ATTEMPTS = 10


def missing_steps(ctx: AppContext, incident: Incident) -> list[str]:
    steps = []
    if not incident.channel_id:
        steps.append("channel")
    if not incident.reporter_invited:
        steps.append("invite")
    if not incident.topic_set:
        steps.append("topic")
    if not incident.summary_ts:
        steps.append("summary")
    if not incident.summary_pinned:
        steps.append("pin")
    if announcement_target(ctx.config, incident) and not incident.announcement_ts:
        steps.append("announcement")
    return steps


def declare(ctx: AppContext, *, title: str, severity: str, reporter_id: str | None, description: str = "",
            private: bool = False, source: str = "slack") -> tuple[Incident, list[str]]:
    """Record the incident, then run the Slack set-up. Returns the incident and any set-up problems."""
    with ctx.session() as s:
        incident = service.declare(s, title=title, severity=severity, reporter_id=reporter_id,
                                   description=description, private=private, source=source)
    problems = ensure_slack_setup(ctx, incident.id)
    with ctx.session() as s:
        return service.get(s, incident.id), problems


def _invitees(ctx: AppContext, incident: Incident) -> list[str]:
    users = [incident.reporter_id] if incident.reporter_id else []
    oncall = ctx.services.oncall_for_incident
    if oncall is not None:
        users += [u for u in oncall(ctx) if u not in users]
    return users


def ensure_slack_setup(ctx: AppContext, incident_id: int) -> list[str]:
    """Run every missing Slack step for the incident; return `step: error` lines for steps that failed."""
    with ctx.session() as s:
        incident = service.get(s, incident_id)
    client, prefix, problems = ctx.slack, ctx.prefix, []

    def store(**fields) -> None:
        with ctx.session() as s:
            inc = service.get(s, incident_id)
            service.record_setup(s, inc, **fields)
            for k, v in fields.items():
                setattr(incident, k, v)

    try:
        if not incident.channel_id:
            for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
                name = channel_name(prefix, incident.number, incident.title, attempt)
                try:
                    resp = client.conversations_create(name=name, is_private=incident.private)
                except SlackApiError as exc:
                    if slack_error_code(exc) == "name_taken" and attempt < MAX_NAME_ATTEMPTS:
                        continue
                    raise
                store(channel_id=resp["channel"]["id"], channel_name=resp["channel"]["name"])
                break
        if not incident.reporter_invited:
            users = _invitees(ctx, incident)
            if users:
                try:
                    client.conversations_invite(channel=incident.channel_id, users=",".join(users))
                except SlackApiError as exc:
                    if slack_error_code(exc) not in ("already_in_channel", "cant_invite_self"):
                        raise
                with ctx.session() as s:
                    inc = service.get(s, incident_id)
                    for u in users:
                        service.add_participant(s, inc, u, "invited")
            store(reporter_invited=True)
        if not incident.topic_set:
            client.conversations_setTopic(channel=incident.channel_id,
                                          topic=topic_text(incident.severity, incident.status, incident.commander_id))
            store(topic_set=True)
        if not incident.summary_ts:
            with ctx.session() as s:
                roles = service.roles(s, incident)
            resp = client.chat_postMessage(channel=incident.channel_id, text=messages.summary_text(incident, prefix),
                                           blocks=messages.summary_blocks(incident, roles, prefix))
            store(summary_ts=resp["ts"])
            with ctx.session() as s:
                declared = service.latest_event(s, incident, "declared")
            if declared is not None:
                link_timeline(ctx, declared.id, incident.channel_id, resp["ts"])
        if not incident.summary_pinned:
            try:
                client.pins_add(channel=incident.channel_id, timestamp=incident.summary_ts)
            except SlackApiError as exc:
                if slack_error_code(exc) != "already_pinned":
                    raise
            store(summary_pinned=True)
        announce = announcement_target(ctx.config, incident)
        if announce and not incident.announcement_ts:
            resp = client.chat_postMessage(channel=announce, text=messages.summary_text(incident, prefix),
                                           blocks=messages.announcement_blocks(incident, prefix), unfurl_links=False)
            store(announcement_channel=announce, announcement_ts=resp["ts"])
        if incident.setup_error:
            store(setup_error=None)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded; the record survives for repair
        step = (missing_steps(ctx, incident) or ["slack"])[0]
        problem = f"{step}: {slack_error_code(exc)}"
        log.warning("incident %s: Slack set-up step failed: %s", incident.number, problem,
                    exc_info=not isinstance(exc, SlackApiError) and not incident.private)  # tracebacks carry text
        store(setup_error=problem)
        problems.append(problem)
    return problems


def repair_all(ctx: AppContext) -> dict[int, list[str]]:
    """Finish the Slack set-up of every incident that is missing a step (run at start-up and on demand)."""
    with ctx.session() as s:
        pending = [i for i in service.incomplete_setup(s) if missing_steps(ctx, i)]
    return {i.number: ensure_slack_setup(ctx, i.id) for i in pending}


def refresh_slack(ctx: AppContext, incident_id: int) -> None:
    """Bring the pinned summary, topic and announcement in line with the record. Failures are logged only: the
    record is the truth and the next change (or a repair) refreshes again."""
    with ctx.session() as s:
        incident = service.get(s, incident_id)
        roles = service.roles(s, incident)
    prefix = ctx.prefix
    steps = [
        ("summary", lambda: incident.summary_ts and ctx.slack.chat_update(
            channel=incident.channel_id, ts=incident.summary_ts, text=messages.summary_text(incident, prefix),
            blocks=messages.summary_blocks(incident, roles, prefix))),
        ("topic", lambda: incident.channel_id and ctx.slack.conversations_setTopic(
            channel=incident.channel_id, topic=topic_text(incident.severity, incident.status, incident.commander_id))),
        ("announcement", lambda: announcement_allowed(ctx.config, incident) and ctx.slack.chat_update(
            channel=incident.announcement_channel, ts=incident.announcement_ts,
            text=messages.summary_text(incident, prefix), blocks=messages.announcement_blocks(incident, prefix))),
    ]
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001
            log.warning("incident %s: could not refresh %s: %s", incident.number, name, slack_error_code(exc))


def post_in_channel(ctx: AppContext, incident: Incident, text: str, *, timeline_event_id: int | None = None) -> str | None:
    """Post `text` in the incident channel; with `timeline_event_id`, link that timeline entry to the message so
    the postmortem's timeline can cite it. Returns the message ts."""
    if not incident.channel_id:
        return None
    ts = ctx.slack.chat_postMessage(channel=incident.channel_id, text=text)["ts"]
    if timeline_event_id is not None:
        link_timeline(ctx, timeline_event_id, incident.channel_id, ts)
    return ts


def link_timeline(ctx: AppContext, event_id: int, channel: str, ts: str) -> None:
    """Point a timeline entry at its Slack message."""
    permalink = _permalink(ctx, channel, ts)
    with ctx.session() as s:
        service.link_timeline(s, event_id, channel, ts, permalink)


def _permalink(ctx: AppContext, channel: str, ts: str) -> str | None:
    """Best effort: a missing permalink never fails the command that asked for it."""
    try:
        return ctx.slack.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        log.info("no permalink for %s: %s", ts, slack_error_code(exc))
        return None


def require_known_user(ctx: AppContext, user_id: str) -> None:
    """Refuse (IncidentError) a user id the workspace does not have, or whose account is deactivated, before
    anything is recorded. If Slack cannot answer, refuse too: a role given to nobody is worse than a retry."""
    try:
        user = ctx.slack.users_info(user=user_id).get("user") or {}
    except SlackApiError as exc:
        if slack_error_code(exc) in ("user_not_found", "users_not_found"):
            raise service.IncidentError(f"there is no user `{user_id}` in this workspace; "
                                        "mention someone from the member list") from None
        raise service.IncidentError(f"could not check `{user_id}` with Slack ({slack_error_code(exc)}); "
                                    "nothing was changed, try again shortly") from None
    if user.get("deleted"):
        raise service.IncidentError(f"`{user_id}` is deactivated; pick someone who is in the workspace")


def broadcast_update(ctx: AppContext, incident: Incident, author: str | None, body: str,
                     timeline_event_id: int | None = None) -> None:
    """Post an update in the incident channel and, threaded and broadcast, under the announcement."""
    text = messages.update_text(incident, ctx.prefix, author, body)
    post_in_channel(ctx, incident, text, timeline_event_id=timeline_event_id)
    if announcement_allowed(ctx.config, incident):
        ctx.slack.chat_postMessage(channel=incident.announcement_channel, thread_ts=incident.announcement_ts,
                                   reply_broadcast=True, text=text)
    elif announcement_target(ctx.config, incident):
        ctx.slack.chat_postMessage(channel=announcement_target(ctx.config, incident), text=text)


def pin_message_to_timeline(ctx: AppContext, channel: str, ts: str, actor: str | None) -> bool:
    """Add a Slack message to its incident's timeline at the message's own time; False if not an incident
    channel or already there."""
    with ctx.session() as s:
        incident = service.get_by_channel(s, channel)
    if incident is None:
        return False
    text, author = "(message not readable)", None
    try:
        history = ctx.slack.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
        msgs = [m for m in history.get("messages", []) if m.get("ts") == ts]
        if msgs:
            text, author = msgs[0].get("text", ""), msgs[0].get("user")
    except SlackApiError as exc:
        log.warning("could not read pinned message %s in %s: %s", ts, channel, slack_error_code(exc))
    permalink = _permalink(ctx, channel, ts)
    with ctx.session() as s:
        inc = service.get(s, incident.id)
        event = service.add_timeline(s, inc, "message", text, actor=author or actor, at=ts_to_datetime(ts),
                                     source_channel=channel, source_ts=ts, permalink=permalink)
    return event is not None


def timeline_text(ctx: AppContext, incident: Incident) -> str:
    """The last 30 timeline entries, one line each, times in the reader's zone."""
    with ctx.session() as s:
        events = service.timeline(s, incident)
    lines = [f"• {slack_date(e.at, '{time}')} {neutralize_broadcasts(e.text)[:300]}" for e in events[-30:]]
    return "\n".join(lines) if lines else "(empty)"



def run_hooks(ctx: AppContext, name: str, incident_id: int) -> None:
    """Run the feature hooks registered under `name` (`after_declare`, `after_resolve`: triage, postmortem
    drafts). A failing hook is logged and never undoes or blocks the incident change that triggered it."""
    for hook in getattr(ctx.services, name):
        try:
            hook(ctx, incident_id)
        except Exception as exc:  # noqa: BLE001
            # A traceback can carry the incident's text (SQL parameters, prompt fragments): private ones log the
            # exception's class only.
            log.error("%s hook %s failed for incident %s: %s", name, getattr(hook, "__name__", hook), incident_id,
                      exc.__class__.__name__, exc_info=not _is_private(ctx, incident_id))


def _is_private(ctx: AppContext, incident_id: int) -> bool:
    try:
        with ctx.session() as s:
            incident = service.get(s, incident_id)
            return incident is None or bool(incident.private)
    except Exception:  # noqa: BLE001 - unknown counts as private
        return True
