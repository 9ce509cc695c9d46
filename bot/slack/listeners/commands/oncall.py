"""`/oncall`: parse, acknowledge at once, run, reply ephemerally (see `bot.rotations.domain.commands` for the grammar)."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.context import AppContext
from bot.rotations import flows
from bot.rotations.domain.commands import USAGE, OncallUsageError, parse_oncall_command
from bot.rotations.service import RotationError
from bot.safety import neutralize_broadcasts

log = logging.getLogger(__name__)


def register(app: App, ctx: AppContext, _once=None) -> None:
    @app.command("/oncall")
    def handle_oncall(ack, command, respond):
        rotations = [r.name for r in ctx.config.rotations]
        head, _, rest = command.get("text", "").strip().partition(" ")
        extra = ctx.services.oncall_commands.get(head.lower())
        if extra is not None:  # a feature's own sub-command (`/oncall contact …`): it answers ephemerally itself
            ack()
            extra(ctx, command["user_id"], rest.strip(), respond)
            return
        try:
            cmd = parse_oncall_command(command.get("text", ""), rotations)
        except OncallUsageError as exc:
            ack(response_type="ephemeral", text=flows.usage_text(str(exc)))
            return
        if cmd.name == "help":
            ack(response_type="ephemeral", text=USAGE)
            return
        ack()
        try:
            reply = flows.run(ctx, cmd, command["user_id"])
        except RotationError as exc:
            # The message may name people (<@U…>), which is fine to show the asker; broadcasts are still escaped.
            respond(response_type="ephemeral", text=f":warning: {neutralize_broadcasts(str(exc))}")
            return
        respond(response_type="ephemeral", text=reply.text, blocks=reply.blocks)
