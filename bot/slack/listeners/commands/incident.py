"""`/incident`: parse through the sub-command registry, acknowledge at once, run the use case, reply ephemerally."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.context import AppContext
from bot.incidents import commands, service
from bot.incidents.domain import UsageError
from bot.incidents.service import declare_and_report, run_command  # noqa: F401 - kept importable from here
from bot.safety import neutralize_mentions

log = logging.getLogger(__name__)


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
    def handle_incident(ack, command, respond):
        registry = service.command_registry(ctx)
        text = command.get("text", "")
        try:
            cmd = commands.parse(text, ctx.config.incidents.severity_names, registry)
        except UsageError as exc:
            ack(response_type="ephemeral", text=usage_error_text(registry, text, exc))
            return
        if cmd.name == "help":
            ack(response_type="ephemeral", text=service.help_text(ctx))
            return
        if cmd.name == "declare_modal":
            ack()
            service.open_declare_form(ctx, command["trigger_id"], command.get("channel_id"))
            return
        if cmd.name == "declare":
            ack(response_type="ephemeral",
                text=f":hourglass_flowing_sand: Declaring “{neutralize_mentions(str(cmd.args['title'])[:200])}”…")
        else:
            ack()
        run_command(ctx, cmd, user=command["user_id"], channel=command.get("channel_id"), respond=respond)


def usage_error_text(registry: commands.CommandRegistry, text: str, exc: UsageError) -> str:
    """One error, plus the usage of the sub-command it was about (never the whole help)."""
    message = f":warning: {neutralize_mentions(str(exc))}"
    if str(exc).startswith("unknown command"):
        return message
    entry = registry.get((text or "").strip().split(" ", 1)[0].lower())
    return f"{message}\n{registry.usage_line(entry.name)}" if entry else message
