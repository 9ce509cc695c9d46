"""Incident use cases: every `/incident` sub-command, declare and repair, spanning the database and Slack.

The record is written first, then each Slack step runs and its result is stored at once. A step that fails
leaves the record with what is still missing (`missing_steps`), which `/incident repair`, a retried command or the
start-up sweep finishes: never a channel without a record, never a record silently missing its channel.
"""

from __future__ import annotations

import logging
from typing import Any, Callable
from slack_sdk.errors import SlackApiError

from bot.context import AppContext
from bot.core.slack_dates import slack_date
from bot.correlation import bind_incident
from bot.core.slack_errors import slack_error_code
from bot.incidents import messages, store
from bot.incidents.commands import BUILTIN_REGISTRY, CommandRegistry
from bot.incidents.visibility import announcement_allowed, announcement_target, visible_to
from bot.incidents.domain import TITLE_MAX, Command, channel_name, shorten_title, topic_text, ts_to_datetime
from bot.safety import neutralize_broadcasts, neutralize_mentions
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
    """Record the incident, then run the Slack set-up. Returns the incident and any set-up problems. A title
    over TITLE_MAX (a typed one, an alert's) is shortened and the full text put first in the description."""
    short = shorten_title(title)
    if short != " ".join(title.split()):
        title, description = short, title.strip() + (f"\n\n{description}" if description else "")
    with ctx.session() as s:
        incident = store.declare(s, title=title, severity=severity, reporter_id=reporter_id,
                                   description=description, private=private, source=source)
    problems = ensure_slack_setup(ctx, incident.id)
    with ctx.session() as s:
        return store.get(s, incident.id), problems


def _invitees(ctx: AppContext, incident: Incident) -> list[str]:
    users = [incident.reporter_id] if incident.reporter_id else []
    oncall = ctx.services.oncall_for_incident
    if oncall is not None:
        users += [u for u in oncall(ctx) if u not in users]
    return users


def ensure_slack_setup(ctx: AppContext, incident_id: int) -> list[str]:
    """Run every missing Slack step for the incident; return `step: error` lines for steps that failed."""
    with ctx.session() as s:
        incident = store.get(s, incident_id)

    def save(**fields) -> None:
        with ctx.session() as s:
            inc = store.get(s, incident_id)
            store.record_setup(s, inc, **fields)
            for k, v in fields.items():
                setattr(incident, k, v)

    try:
        for step in _SETUP_STEPS:
            step(ctx, incident, save)
        if incident.setup_error:
            save(setup_error=None)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded; the record survives for repair
        step_name = (missing_steps(ctx, incident) or ["slack"])[0]
        problem = f"{step_name}: {slack_error_code(exc)}"
        log.warning("incident %s: Slack set-up step failed: %s", incident.number, problem,
                    exc_info=not isinstance(exc, SlackApiError) and not incident.private)  # tracebacks carry text
        save(setup_error=problem)
        return [problem]
    return []


def _create_channel(ctx: AppContext, incident: Incident, save) -> None:
    if incident.channel_id:
        return
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = channel_name(ctx.prefix, incident.number, incident.title, attempt)
        try:
            resp = ctx.slack.conversations_create(name=name, is_private=incident.private)
        except SlackApiError as exc:
            if slack_error_code(exc) == "name_taken" and attempt < MAX_NAME_ATTEMPTS:
                continue
            raise
        save(channel_id=resp["channel"]["id"], channel_name=resp["channel"]["name"])
        return


def _invite(ctx: AppContext, incident: Incident, save) -> None:
    if incident.reporter_invited:
        return
    users = _invitees(ctx, incident)
    if users:
        try:
            ctx.slack.conversations_invite(channel=incident.channel_id, users=",".join(users))
        except SlackApiError as exc:
            if slack_error_code(exc) not in ("already_in_channel", "cant_invite_self"):
                raise
        with ctx.session() as s:
            inc = store.get(s, incident.id)
            for u in users:
                store.add_participant(s, inc, u, "invited")
    save(reporter_invited=True)


def _set_topic(ctx: AppContext, incident: Incident, save) -> None:
    if not incident.topic_set:
        ctx.slack.conversations_setTopic(channel=incident.channel_id,
                                         topic=topic_text(incident.severity, incident.status, incident.commander_id))
        save(topic_set=True)


def _post_summary(ctx: AppContext, incident: Incident, save) -> None:
    if incident.summary_ts:
        return
    with ctx.session() as s:
        roles = store.roles(s, incident)
        recurred = store.recurred_from_number(s, incident)
    budget = _budget_lines(ctx, incident.id)
    resp = ctx.slack.chat_postMessage(channel=incident.channel_id, text=messages.summary_text(incident, ctx.prefix),
                                      blocks=messages.summary_blocks(incident, roles, ctx.prefix,
                                                                     recurred_from=recurred, budget_lines=budget))
    save(summary_ts=resp["ts"])
    with ctx.session() as s:
        declared = store.latest_event(s, incident, "declared")
    if declared is not None:
        link_timeline(ctx, declared.id, incident.channel_id, resp["ts"])


def _pin_summary(ctx: AppContext, incident: Incident, save) -> None:
    if incident.summary_pinned:
        return
    try:
        ctx.slack.pins_add(channel=incident.channel_id, timestamp=incident.summary_ts)
    except SlackApiError as exc:
        if slack_error_code(exc) != "already_pinned":
            raise
    save(summary_pinned=True)


def _announce(ctx: AppContext, incident: Incident, save) -> None:
    announce = announcement_target(ctx.config, incident)
    if announce and not incident.announcement_ts:
        resp = ctx.slack.chat_postMessage(channel=announce, text=messages.summary_text(incident, ctx.prefix),
                                          blocks=messages.announcement_blocks(incident, ctx.prefix), unfurl_links=False)
        save(announcement_channel=announce, announcement_ts=resp["ts"])


# In order: each step needs what the ones before it stored (the channel id, the summary's ts).
_SETUP_STEPS = (_create_channel, _invite, _set_topic, _post_summary, _pin_summary, _announce)


def repair_all(ctx: AppContext) -> dict[int, list[str]]:
    """Finish the Slack set-up of every incident that is missing a step (run at start-up and on demand)."""
    with ctx.session() as s:
        pending = [i for i in store.incomplete_setup(s) if missing_steps(ctx, i)]
    return {i.number: ensure_slack_setup(ctx, i.id) for i in pending}


def _budget_lines(ctx: AppContext, incident_id: int) -> list[str] | None:
    """Error-budget lines for the summary, from the telemetry feature when it is installed (never raises)."""
    lines = ctx.services.summary_budget_lines
    return lines(ctx, incident_id) if lines is not None else None


def refresh_slack(ctx: AppContext, incident_id: int) -> None:
    """Bring the pinned summary, topic and announcement in line with the record. Failures are logged only: the
    record is the truth and the next change (or a repair) refreshes again."""
    with ctx.session() as s:
        incident = store.get(s, incident_id)
        roles = store.roles(s, incident)
        recurred = store.recurred_from_number(s, incident)
    budget = _budget_lines(ctx, incident_id)
    prefix = ctx.prefix
    steps = [
        ("summary", lambda: incident.summary_ts and ctx.slack.chat_update(
            channel=incident.channel_id, ts=incident.summary_ts, text=messages.summary_text(incident, prefix),
            blocks=messages.summary_blocks(incident, roles, prefix, recurred_from=recurred, budget_lines=budget))),
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
        store.link_timeline(s, event_id, channel, ts, permalink)


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
            raise store.IncidentError(f"there is no user `{user_id}` in this workspace; "
                                        "mention someone from the member list") from None
        raise store.IncidentError(f"could not check `{user_id}` with Slack ({slack_error_code(exc)}); "
                                    "nothing was changed, try again shortly") from None
    if user.get("deleted"):
        raise store.IncidentError(f"`{user_id}` is deactivated; pick someone who is in the workspace")


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
        incident = store.get_by_channel(s, channel)
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
        inc = store.get(s, incident.id)
        event = store.add_timeline(s, inc, "message", text, actor=author or actor, at=ts_to_datetime(ts),
                                     source_channel=channel, source_ts=ts, permalink=permalink)
    return event is not None


TIMELINE_REACTIONS = {"pushpin", "round_pushpin"}
ADDED_REACTION = "white_check_mark"


def timeline_reaction(ctx: AppContext, event: dict) -> str:
    """A `reaction_added` event: a :pushpin: on a message in an incident channel adds it to the timeline and
    marks the message with a check mark. Returns what happened: `ignored`, `added` or `already`."""
    item = event.get("item") or {}
    if event.get("reaction") not in TIMELINE_REACTIONS or item.get("type") != "message":
        return "ignored"
    with ctx.session() as s:
        if store.get_by_channel(s, item.get("channel")) is None:
            return "ignored"
    if not pin_message_to_timeline(ctx, item["channel"], item["ts"], event.get("user")):
        return "already"
    _confirm_pinned(ctx, item["channel"], item["ts"])
    return "added"


def _confirm_pinned(ctx: AppContext, channel: str, ts: str) -> None:
    """A check mark on the message; without `reactions:write` (or if it fails), a thread reply instead."""
    try:
        ctx.slack.reactions_add(channel=channel, timestamp=ts, name=ADDED_REACTION)
        return
    except SlackApiError as exc:
        if slack_error_code(exc) == "already_reacted":
            return
        log.info("could not react to %s in %s: %s", ts, channel, slack_error_code(exc))
    try:
        ctx.slack.chat_postMessage(channel=channel, thread_ts=ts, text=":pushpin: Added to the incident timeline.")
    except SlackApiError as exc:
        log.warning("could not confirm the timeline pin of %s: %s", ts, slack_error_code(exc))


def timeline_text(ctx: AppContext, incident: Incident) -> str:
    """The last 30 timeline entries, one line each, times in the reader's zone."""
    with ctx.session() as s:
        events = store.timeline(s, incident)
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
            incident = store.get(s, incident_id)
            return incident is None or bool(incident.private)
    except Exception:  # noqa: BLE001 - unknown counts as private
        return True


# --- `/incident` use cases: one function per sub-command. Channel commands take (ctx, incident, cmd, user,
# respond) like the features' sub-commands; the others (ctx, cmd, user, channel, respond). Errors the user can
# fix are raised as IncidentError and shown ephemerally by `run_command`.

def command_registry(ctx: AppContext) -> CommandRegistry:
    """The built-in sub-commands bound to their use cases, then the features' (which may replace a built-in)."""
    return BUILTIN_REGISTRY.bind({**_BUILTIN_HANDLERS, **ctx.services.incident_commands})


def help_text(ctx: AppContext) -> str:
    return command_registry(ctx).help_text(ctx.config.incidents.default_severity)


def run_command(ctx: AppContext, cmd: Command, *, user: str, channel: str | None, respond) -> None:
    """Run a parsed sub-command after the ack; errors the user can fix come back as ephemeral text."""
    entry = command_registry(ctx).get(cmd.name)
    if entry is None or entry.handler is None:
        respond(response_type="ephemeral", text=f":construction: `/incident {cmd.name}` is not available in this "
                "installation.")
        return
    try:
        if not entry.in_channel:
            entry.handler(ctx, cmd, user, channel, respond)
            return
        with ctx.session() as s:
            incident = store.get_by_channel(s, channel)
        if incident is None:
            respond(response_type="ephemeral", text=f":warning: `/incident {entry.usage.split()[0]}` works in an "
                    "incident channel. Use `/incident list` to find one.")
            return
        bind_incident(incident.number)  # this request's log lines carry the incident number from here on
        entry.handler(ctx, incident, cmd, user, respond)
    except store.IncidentError as exc:
        respond(response_type="ephemeral", text=f":warning: {neutralize_mentions(str(exc))}")


def declare_command(ctx: AppContext, cmd: Command, user: str, channel: str | None, respond) -> None:
    severity = str(cmd.args.get("severity") or ctx.config.incidents.default_severity)
    declare_and_report(ctx, title=str(cmd.args["title"]), severity=severity, description="",
                       private=ctx.config.incidents.private_by_default, user=user, respond=respond)


def declare_and_report(ctx: AppContext, *, title: str, severity: str, description: str, private: bool, user: str,
                       respond) -> None:
    """Declare, tell the reporter how it went, then run the features' after-declare hooks. A title over
    TITLE_MAX is shortened and the full text kept as the description (said in the reply)."""
    incident, problems = declare(ctx, title=title, severity=severity, reporter_id=user, description=description,
                                 private=private)
    label = messages.incident_label(incident, ctx.prefix)
    if problems:
        text = (f":warning: {label} is recorded, but a Slack step failed ({', '.join(problems)}). "
                f"Run `/incident repair {incident.number}` to finish it; nothing is lost.")
    else:
        text = f":rotating_light: {label} declared ({severity.upper()}): {messages.channel_link(incident)}"
    if len(" ".join(title.split())) > TITLE_MAX:
        text += (f"\nThe title was over {TITLE_MAX} characters, so it was shortened; the full text is the "
                 "incident's description.")
    respond(response_type="ephemeral", text=text)
    run_hooks(ctx, "after_declare", incident.id)


def open_declare_form(ctx: AppContext, trigger_id: str, channel: str | None) -> None:
    cfg = ctx.config.incidents
    ctx.slack.views_open(trigger_id=trigger_id, view=messages.declare_modal(
        [(s.name, s.description) for s in cfg.severities], cfg.default_severity, channel,
        private=cfg.private_by_default))


def list_command(ctx: AppContext, cmd: Command, user: str, channel: str | None, respond) -> None:
    with ctx.session() as s:
        open_incidents = store.list_open(s)
    # Private incidents are listed only to members of their channel.
    open_incidents = visible_to(ctx, open_incidents, user)
    respond(response_type="ephemeral", text="Open incidents", blocks=messages.list_blocks(open_incidents, ctx.prefix))


def help_command(ctx: AppContext, cmd: Command, user: str, channel: str | None, respond) -> None:
    respond(response_type="ephemeral", text=help_text(ctx))


def repair_command(ctx: AppContext, cmd: Command, user: str, channel: str | None, respond) -> None:
    number = cmd.args.get("number")
    with ctx.session() as s:
        incident = store.get_by_number(s, number) if number else store.get_by_channel(s, channel)
    if incident is None:
        respond(response_type="ephemeral", text=":warning: No such incident. Use `/incident repair <number>`.")
        return
    label = messages.incident_label(incident, ctx.prefix)
    missing = missing_steps(ctx, incident)
    if not missing:
        respond(response_type="ephemeral", text=f":white_check_mark: {label} needs no repair.")
        return
    problems = ensure_slack_setup(ctx, incident.id)
    with ctx.session() as s:
        incident = store.get(s, incident.id)
    if problems:
        respond(response_type="ephemeral", text=f":warning: Still failing: {', '.join(problems)}. Try again shortly.")
    else:
        respond(response_type="ephemeral", text=f":white_check_mark: Repaired {', '.join(missing)} for {label}: "
                f"{messages.channel_link(incident)}")


def change_status(ctx: AppContext, incident: Incident, cmd: Command, user: str, respond) -> None:
    if cmd.args["status"] == "resolved":
        resolve_incident(ctx, incident, Command("resolve", {"summary": None}), user, respond)
        return
    with ctx.session() as s:
        inc = store.get(s, incident.id)
        before = inc.status
        event = store.set_status(s, inc, str(cmd.args["status"]), actor=user)
    post_in_channel(ctx, inc, messages.change_text(f"<@{user}> changed the status from {before} to *{inc.status}*"),
                    timeline_event_id=event.id)
    refresh_slack(ctx, incident.id)


def change_severity(ctx: AppContext, incident: Incident, cmd: Command, user: str, respond) -> None:
    with ctx.session() as s:
        inc = store.get(s, incident.id)
        before = inc.severity
        event = store.set_severity(s, inc, str(cmd.args["severity"]), actor=user)
    post_in_channel(ctx, inc, messages.change_text(
        f"<@{user}> changed the severity from {before.upper()} to *{inc.severity.upper()}*"), timeline_event_id=event.id)
    refresh_slack(ctx, incident.id)


def assign_role(ctx: AppContext, incident: Incident, cmd: Command, user: str, respond) -> None:
    target = str(cmd.args["user"])
    require_known_user(ctx, target)  # refused before anything is recorded
    with ctx.session() as s:
        inc = store.get(s, incident.id)
        event = store.assign_role(s, inc, str(cmd.args["role"]), target, actor=user)
    try:
        ctx.slack.conversations_invite(channel=inc.channel_id, users=target)
    except Exception as exc:  # noqa: BLE001 - already in the channel is the usual case
        log.debug("invite of %s: %s", target, slack_error_code(exc))
    post_in_channel(ctx, inc, messages.change_text(f"<@{target}> is now *{cmd.args['role']}* (set by <@{user}>)"),
                    timeline_event_id=event.id)
    refresh_slack(ctx, incident.id)


def acknowledge(ctx: AppContext, incident: Incident, cmd: Command, user: str, respond) -> None:
    with ctx.session() as s:
        inc = store.get(s, incident.id)
        event = store.acknowledge(s, inc, actor=user)
    hint = "" if inc.commander_id else " No commander yet: `/incident commander @user`."
    post_in_channel(ctx, inc, f":eyes: <@{user}> acknowledged and is on it.{hint}", timeline_event_id=event.id)


def post_update(ctx: AppContext, incident: Incident, cmd: Command, user: str, respond) -> None:
    body = str(cmd.args["text"])
    with ctx.session() as s:
        inc = store.get(s, incident.id)
        event = store.add_timeline(s, inc, "update", body, actor=user)
    if inc.status != "resolved":
        broadcast_update(ctx, inc, user, body, timeline_event_id=event.id)
        return
    # Broadcasting "(resolved)" news to the announcements would read as a new problem: channel and timeline only.
    post_in_channel(ctx, inc, messages.after_resolve_update_text(inc, ctx.prefix, user, body),
                    timeline_event_id=event.id)
    respond(response_type="ephemeral", text=f":information_source: {messages.incident_label(inc, ctx.prefix)} is "
            "resolved, so your update was added to its channel and timeline but not announced. "
            "If it is happening again, `/incident reopen [reason]`.")


def add_timeline_note(ctx: AppContext, incident: Incident, cmd: Command, user: str, respond) -> None:
    with ctx.session() as s:
        inc = store.get(s, incident.id)
        event = store.add_timeline(s, inc, "note", str(cmd.args["text"]), actor=user)
    # Said in the channel too: the timeline is shared, and the message gives the entry its permalink.
    post_in_channel(ctx, inc, f":memo: <@{user}> added to the timeline: {neutralize_mentions(str(cmd.args['text']))}",
                    timeline_event_id=event.id)


def show_timeline(ctx: AppContext, incident: Incident, cmd: Command, user: str, respond) -> None:
    respond(response_type="ephemeral", text="*Timeline*\n" + timeline_text(ctx, incident))


def add_followup(ctx: AppContext, incident: Incident, cmd: Command, user: str, respond, *,
                 describe: Callable[[Incident, Any], str] | None = None) -> None:
    """Record a follow-up and say so in the channel. `describe(incident, item)` lets a feature (follow-up trackers)
    do its part after the record is stored and return the channel line instead of the plain one."""
    owner = cmd.args.get("owner")
    with ctx.session() as s:
        inc = store.get(s, incident.id)
        item = store.add_followup(s, inc, str(cmd.args["text"]), owner=owner, actor=user,
                                  kind=str(cmd.args.get("kind") or "prevent"))
        event = store.latest_event(s, inc, "followup")
    owner_text = f" for <@{owner}>" if owner else ""
    line = (describe(inc, item) if describe is not None
            else f":clipboard: Follow-up #{item.id} ({item.kind}){owner_text}: {neutralize_mentions(item.text)}")
    post_in_channel(ctx, inc, line, timeline_event_id=event.id if event else None)


def resolve_incident(ctx: AppContext, incident: Incident, cmd: Command, user: str, respond) -> None:
    with ctx.session() as s:
        inc = store.get(s, incident.id)
        event = store.resolve(s, inc, summary=cmd.args.get("summary"), actor=user)
    post_in_channel(ctx, inc, messages.resolved_text(inc, ctx.prefix), timeline_event_id=event.id)
    refresh_slack(ctx, incident.id)
    _reply_under_announcement(ctx, inc, messages.resolved_text(inc, ctx.prefix))
    run_hooks(ctx, "after_resolve", incident.id)


def reopen_incident(ctx: AppContext, incident: Incident, cmd: Command, user: str, respond) -> None:
    """Return a resolved incident to investigating: its commander, participants and admins may."""
    reason = cmd.args.get("reason")
    with ctx.session() as s:
        inc = store.get(s, incident.id)
        allowed = user in ctx.config.admins or store.is_participant(s, inc, user)
        if not allowed:
            raise store.IncidentError("only the commander, the incident's participants and admins can reopen it; "
                                      "ask the commander or post an update instead")
        event = store.reopen(s, inc, reason=reason, actor=user)
    text = messages.reopened_text(inc, ctx.prefix, user, reason)
    post_in_channel(ctx, inc, text, timeline_event_id=event.id)
    refresh_slack(ctx, incident.id)
    _reply_under_announcement(ctx, inc, text)


def _reply_under_announcement(ctx: AppContext, incident: Incident, text: str) -> None:
    if not announcement_allowed(ctx.config, incident):
        return
    try:
        ctx.slack.chat_postMessage(channel=incident.announcement_channel, thread_ts=incident.announcement_ts,
                                   reply_broadcast=True, text=text)
    except Exception as exc:  # noqa: BLE001 - the record and the channel already say it
        log.warning("could not reply under the announcement: %s", slack_error_code(exc))


_BUILTIN_HANDLERS = {
    "declare": declare_command, "list": list_command, "help": help_command,
    "repair": repair_command, "status": change_status, "sev": change_severity, "role": assign_role,
    "commander": assign_role, "ack": acknowledge, "update": post_update, "timeline": add_timeline_note,
    "timeline_show": show_timeline, "followup": add_followup, "resolve": resolve_incident, "reopen": reopen_incident,
}
