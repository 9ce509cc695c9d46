"""Acknowledge and Escalate buttons on page DMs. Idempotent: double clicks and two people at once are fine. Who may
press them is decided by `bot.paging.service`; anyone else gets an ephemeral refusal."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.context import AppContext
from bot.paging import service
from bot.core.numbers import small_int
from bot.paging.messages import ACK_ACTION_ID, ESCALATE_ACTION_ID, parse_page_action_block_id


def _page_id(value: str) -> int | None:
    return small_int(value)


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
