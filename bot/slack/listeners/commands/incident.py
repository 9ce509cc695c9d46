"""`/incident`: parse, acknowledge at once, run the incident flow, reply ephemerally."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.context import AppContext
from bot.core.slack_errors import slack_error_code
from bot.incidents import service as flows, messages, store as service, visibility
from bot.incidents.domain import USAGE, Command, UsageError, parse_incident_command
from bot.incidents.store import IncidentError
from bot.safety import neutralize_mentions

log = logging.getLogger(__name__)
CHANNEL_COMMANDS = {"status", "sev", "role", "update", "timeline", "timeline_show", "followup", "resolve",
                    "triage", "rca", "postmortem"}


def usage(ctx: AppContext) -> str:
    return USAGE.format(default=ctx.config.incidents.default_severity)


BODY_LOGGERS = ("slack_sdk", "slack_bolt", "bot.slack.client", "openai")  # openai: request options, prompts included


def quiet_message_body_logs() -> None:
    """slack_sdk (through the client's logger), bolt and the openai SDK log every request, response and reply body
    at DEBUG: message text and prompts, so private incident titles. Keep those loggers at INFO whatever the root level is. Bolt copies the root
    level into its own loggers when the app is built, so the existing children are raised too."""
    names = [n for n in list(logging.root.manager.loggerDict)
             if any(n == b or n.startswith(b + ".") or n.startswith(b + ":") for b in BODY_LOGGERS)]
    for name in {*BODY_LOGGERS, *names}:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


def register(app: App, ctx: AppContext, _once=None) -> None:
    quiet_message_body_logs()
    @app.command("/incident")
    def handle_incident(ack, command, respond, client):
        cfg = ctx.config.incidents
        try:
            cmd = parse_incident_command(command.get("text", ""), cfg.severity_names)
        except UsageError as exc:
            ack(response_type="ephemeral", text=f":warning: {neutralize_mentions(str(exc))}\n\n{usage(ctx)}")
            return
        if cmd.name == "help":
            ack(response_type="ephemeral", text=usage(ctx))
            return
        if cmd.name == "declare_modal":
            ack()
            client.views_open(trigger_id=command["trigger_id"], view=messages.declare_modal(
                [(s.name, s.description) for s in cfg.severities], cfg.default_severity, command.get("channel_id"),
                private=cfg.private_by_default))
            return
        if cmd.name == "declare":
            ack(response_type="ephemeral", text=f":hourglass_flowing_sand: Declaring “{neutralize_mentions(str(cmd.args['title']))}”…")
        else:
            ack()
        run_command(ctx, cmd, user=command["user_id"], channel=command.get("channel_id"), respond=respond)


def run_command(ctx: AppContext, cmd: Command, *, user: str, channel: str | None, respond) -> None:
    """Everything after the ack; errors the user can fix come back as ephemeral text."""
    if cmd.name == "declare":
        severity = str(cmd.args.get("severity") or ctx.config.incidents.default_severity)
        declare_and_report(ctx, title=str(cmd.args["title"]), severity=severity, description="",
                           private=ctx.config.incidents.private_by_default,
                           user=user, respond=respond)
        return
    if cmd.name == "list":
        with ctx.session() as s:
            open_incidents = service.list_open(s)
        # Private incidents are listed only to members of their channel.
        open_incidents = visibility.visible_to(ctx, open_incidents, user)
        respond(response_type="ephemeral", text="Open incidents",
                blocks=messages.list_blocks(open_incidents, ctx.prefix))
        return
    if cmd.name == "repair":
        repair(ctx, cmd.args.get("number"), channel, respond)
        return
    with ctx.session() as s:
        incident = service.get_by_channel(s, channel)
    if incident is None:
        respond(response_type="ephemeral", text=f":warning: `/incident {cmd.name.replace('_show', '')}` works in an "
                "incident channel. Use `/incident list` to find one.")
        return
    handler = ctx.services.incident_commands.get(cmd.name) or _HANDLERS.get(cmd.name)
    if handler is None:
        respond(response_type="ephemeral", text=f":construction: `/incident {cmd.name}` is not available in this installation.")
        return
    try:
        handler(ctx, incident, cmd, user, respond)
    except IncidentError as exc:
        respond(response_type="ephemeral", text=f":warning: {neutralize_mentions(str(exc))}")


def declare_and_report(ctx: AppContext, *, title: str, severity: str, description: str, private: bool, user: str,
                       respond) -> None:
    incident, problems = flows.declare(ctx, title=title, severity=severity, reporter_id=user,
                                       description=description, private=private)
    label = messages.incident_label(incident, ctx.prefix)
    if problems:
        text = (f":warning: {label} is recorded, but a Slack step failed ({', '.join(problems)}). "
                f"Run `/incident repair {incident.number}` to finish it; nothing is lost.")
    else:
        text = f":rotating_light: {label} declared ({severity.upper()}): {messages.channel_link(incident)}"
    respond(response_type="ephemeral", text=text)
    flows.run_hooks(ctx, "after_declare", incident.id)


def repair(ctx: AppContext, number: int | None, channel: str | None, respond) -> None:
    with ctx.session() as s:
        incident = service.get_by_number(s, number) if number else service.get_by_channel(s, channel)
    if incident is None:
        respond(response_type="ephemeral", text=":warning: No such incident. Use `/incident repair <number>`.")
        return
    missing = flows.missing_steps(ctx, incident)
    if not missing:
        respond(response_type="ephemeral", text=f":white_check_mark: {messages.incident_label(incident, ctx.prefix)} needs no repair.")
        return
    problems = flows.ensure_slack_setup(ctx, incident.id)
    with ctx.session() as s:
        incident = service.get(s, incident.id)
    if problems:
        respond(response_type="ephemeral", text=f":warning: Still failing: {', '.join(problems)}. Try again shortly.")
    else:
        respond(response_type="ephemeral", text=f":white_check_mark: Repaired {', '.join(missing)} for "
                f"{messages.incident_label(incident, ctx.prefix)}: {messages.channel_link(incident)}")


def _status(ctx, incident, cmd, user, respond):
    if cmd.args["status"] == "resolved":
        _resolve(ctx, incident, Command("resolve", {"summary": None}), user, respond)
        return
    with ctx.session() as s:
        inc = service.get(s, incident.id)
        before = inc.status
        event = service.set_status(s, inc, str(cmd.args["status"]), actor=user)
    flows.post_in_channel(ctx, inc, messages.change_text(f"<@{user}> changed the status from {before} to *{inc.status}*"),
                          timeline_event_id=event.id)
    flows.refresh_slack(ctx, incident.id)


def _sev(ctx, incident, cmd, user, respond):
    with ctx.session() as s:
        inc = service.get(s, incident.id)
        before = inc.severity
        event = service.set_severity(s, inc, str(cmd.args["severity"]), actor=user)
    flows.post_in_channel(ctx, inc, messages.change_text(
        f"<@{user}> changed the severity from {before.upper()} to *{inc.severity.upper()}*"), timeline_event_id=event.id)
    flows.refresh_slack(ctx, incident.id)


def _role(ctx, incident, cmd, user, respond):
    target = str(cmd.args["user"])
    flows.require_known_user(ctx, target)  # refused before anything is recorded
    with ctx.session() as s:
        inc = service.get(s, incident.id)
        event = service.assign_role(s, inc, str(cmd.args["role"]), target, actor=user)
    try:
        ctx.slack.conversations_invite(channel=inc.channel_id, users=target)
    except Exception as exc:  # noqa: BLE001 - already in the channel is the usual case
        log.debug("invite of %s: %s", target, slack_error_code(exc))
    flows.post_in_channel(ctx, inc, messages.change_text(f"<@{target}> is now *{cmd.args['role']}* (set by <@{user}>)"),
                          timeline_event_id=event.id)
    flows.refresh_slack(ctx, incident.id)


def _update(ctx, incident, cmd, user, respond):
    with ctx.session() as s:
        inc = service.get(s, incident.id)
        event = service.add_timeline(s, inc, "update", str(cmd.args["text"]), actor=user)
    flows.broadcast_update(ctx, inc, user, str(cmd.args["text"]), timeline_event_id=event.id)


def _timeline(ctx, incident, cmd, user, respond):
    with ctx.session() as s:
        inc = service.get(s, incident.id)
        event = service.add_timeline(s, inc, "note", str(cmd.args["text"]), actor=user)
    # Said in the channel too: the timeline is shared, and the message gives the entry its permalink.
    flows.post_in_channel(ctx, inc, f":memo: <@{user}> added to the timeline: {neutralize_mentions(str(cmd.args['text']))}",
                          timeline_event_id=event.id)


def _timeline_show(ctx, incident, cmd, user, respond):
    respond(response_type="ephemeral", text="*Timeline*\n" + flows.timeline_text(ctx, incident))


def _followup(ctx, incident, cmd, user, respond):
    owner = cmd.args.get("owner")
    with ctx.session() as s:
        inc = service.get(s, incident.id)
        item = service.add_followup(s, inc, str(cmd.args["text"]), owner=owner, actor=user,
                                    kind=str(cmd.args.get("kind") or "prevent"))
        event = service.latest_event(s, inc, "followup")
    owner_text = f" for <@{owner}>" if owner else ""
    flows.post_in_channel(ctx, inc, f":clipboard: Follow-up #{item.id} ({item.kind}){owner_text}: {neutralize_mentions(item.text)}",
                          timeline_event_id=event.id if event else None)


def _resolve(ctx, incident, cmd, user, respond):
    with ctx.session() as s:
        inc = service.get(s, incident.id)
        event = service.resolve(s, inc, summary=cmd.args.get("summary"), actor=user)
    flows.post_in_channel(ctx, inc, messages.resolved_text(inc, ctx.prefix), timeline_event_id=event.id)
    flows.refresh_slack(ctx, incident.id)
    if visibility.announcement_allowed(ctx.config, inc):
        try:
            ctx.slack.chat_postMessage(channel=inc.announcement_channel, thread_ts=inc.announcement_ts,
                                       reply_broadcast=True, text=messages.resolved_text(inc, ctx.prefix))
        except Exception as exc:  # noqa: BLE001
            log.warning("could not announce resolution: %s", slack_error_code(exc))
    flows.run_hooks(ctx, "after_resolve", incident.id)


_HANDLERS = {"status": _status, "sev": _sev, "role": _role, "update": _update, "timeline": _timeline,
             "timeline_show": _timeline_show, "followup": _followup, "resolve": _resolve}
