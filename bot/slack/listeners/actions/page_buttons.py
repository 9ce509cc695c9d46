"""Acknowledge and Escalate buttons on page DMs. Idempotent: double clicks and two people at once are fine."""

from __future__ import annotations

import re

from slack_bolt import App

from bot.context import AppContext
from bot.paging import flows
from bot.paging.messages import ACK_ACTION_ID, ESCALATE_ACTION_ID, parse_page_action_block_id


def _page_id(value: str) -> int | None:
    return int(value) if value and value.isdigit() else None


def register(app: App, ctx: AppContext, _once=None) -> None:
    @app.action(ACK_ACTION_ID)
    def handle_ack(ack, body, action, respond):
        ack()
        page_id = _page_id(action.get("value", ""))
        if page_id is None:
            respond(response_type="ephemeral", replace_original=False, text=":warning: This button has no page.")
            return
        changed, text = flows.acknowledge(ctx, page_id, body["user"]["id"])
        if not changed:
            respond(response_type="ephemeral", replace_original=False, text=f":information_source: {text}")

    @app.action(ESCALATE_ACTION_ID)
    def handle_escalate(ack, body, action, respond):
        ack()
        page_id = _page_id(action.get("value", ""))
        parsed = parse_page_action_block_id(action.get("block_id"))
        expected = parsed[1] if parsed else None
        if page_id is None:
            respond(response_type="ephemeral", replace_original=False, text=":warning: This button has no page.")
            return
        text = flows.escalate(ctx, page_id, body["user"]["id"], expected)
        respond(response_type="ephemeral", replace_original=False, text=f":arrow_up: {text}")

    @app.action(re.compile(r"^page_link_\d+$"))
    def handle_link(ack):
        # Link buttons open their URL in the browser; Slack still sends the click, which needs only an ack.
        ack()
