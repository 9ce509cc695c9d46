"""Approve / Decline buttons on `/oncall swap` requests (value = RotationSwap id). Only the person asked can answer;
a double click decides once."""

from __future__ import annotations

from slack_bolt import App

from bot.core.numbers import small_int
from bot.context import AppContext
from bot.rotations import flows
from bot.rotations.messages import SWAP_APPROVE, SWAP_DECLINE


def register(app: App, ctx: AppContext, _once=None) -> None:
    def decide(ack, body, action, respond, approve: bool) -> None:
        ack()
        value = action.get("value", "")
        swap_id = small_int(value)
        if swap_id is None:
            respond(response_type="ephemeral", replace_original=False, text=":warning: This button has no swap request.")
            return
        text, done = flows.decide_swap(ctx, swap_id, body["user"]["id"], approve)
        if done:
            respond(replace_original=True, text=text)
        else:
            respond(response_type="ephemeral", replace_original=False, text=text)

    @app.action(SWAP_APPROVE)
    def handle_approve(ack, body, action, respond):
        decide(ack, body, action, respond, True)

    @app.action(SWAP_DECLINE)
    def handle_decline(ack, body, action, respond):
        decide(ack, body, action, respond, False)
