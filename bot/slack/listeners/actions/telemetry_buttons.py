"""Accept and Dismiss on each root-cause hypothesis: recorded as feedback (nothing else changes); the clicker gets
an ephemeral confirmation or the reason it was not recorded."""

from __future__ import annotations

from slack_bolt import App

from bot.assist import feedback
from bot.assist.messages import HYPOTHESIS_ACCEPT_ACTION_ID, HYPOTHESIS_DISMISS_ACTION_ID
from bot.context import AppContext


def register(app: App, ctx: AppContext, _once=None) -> None:
    def handle(ack, body, action, respond) -> None:
        ack()
        text = feedback.record(ctx, action.get("value"), action.get("action_id"), body["user"]["id"])
        respond(response_type="ephemeral", replace_original=False, text=text)

    app.action(HYPOTHESIS_ACCEPT_ACTION_ID)(handle)
    app.action(HYPOTHESIS_DISMISS_ACTION_ID)(handle)
