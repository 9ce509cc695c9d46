"""Acknowledge and Escalate buttons on page DMs. Idempotent: double clicks and two people at once are fine. Who may
press them is decided by `bot.paging.service`; anyone else gets an ephemeral refusal."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.context import AppContext
from bot.paging import service
from bot.paging.messages import ACK_ACTION_ID, ESCALATE_ACTION_ID, parse_page_action_block_id


# Page ids are database integers: anything longer cannot be one (and would overflow a PostgreSQL integer).
_MAX_ID_DIGITS = 9


def _page_id(value: str) -> int | None:
    # isdigit() alone accepts `²` and `١`, which int() then rejects: only ASCII digits are an id.
    ok = bool(value) and value.isascii() and value.isdigit() and len(value) <= _MAX_ID_DIGITS
    return int(value) if ok else None


def register(app: App, ctx: AppContext, _once=None) -> None:
    @app.action(ACK_ACTION_ID)
    def handle_ack(ack, body, action, respond):
        ack()
        page_id = _page_id(action.get("value", ""))
        if page_id is None:
            respond(response_type="ephemeral", replace_original=False, text=":warning: This button has no page.")
            return
        result = service.acknowledge_page(ctx, page_id, body["user"]["id"])
        if result.refused:
            respond(response_type="ephemeral", replace_original=False, text=f":no_entry: {result.text}")
        elif not result.changed:
            respond(response_type="ephemeral", replace_original=False, text=f":information_source: {result.text}")

    @app.action(ESCALATE_ACTION_ID)
    def handle_escalate(ack, body, action, respond):
        ack()
        page_id = _page_id(action.get("value", ""))
        parsed = parse_page_action_block_id(action.get("block_id"))
        expected = parsed[1] if parsed else None
        if page_id is None:
            respond(response_type="ephemeral", replace_original=False, text=":warning: This button has no page.")
            return
        result = service.escalate_page(ctx, page_id, body["user"]["id"], expected)
        icon = ":no_entry:" if result.refused else ":arrow_up:"
        respond(response_type="ephemeral", replace_original=False, text=f"{icon} {result.text}")

    @app.action(re.compile(r"^page_link_\d+$"))
    def handle_link(ack):
        # Link buttons open their URL in the browser; Slack still sends the click, which needs only an ack.
        ack()
