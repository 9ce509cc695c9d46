"""Accept and Dismiss on triage suggestions. Only these clicks apply anything; a second click is a no-op with an
ephemeral note, whoever makes it."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.core.numbers import small_int
from bot.assist import service
from bot.assist.messages import ACCEPT_ACTION_ID, DISMISS_ACTION_ID
from bot.context import AppContext

log = logging.getLogger(__name__)


def _suggestion_id(value: str | None) -> int | None:
    return small_int(value)


def register(app: App, ctx: AppContext, _once=None) -> None:
    def handle(decide, ack, body, action, respond) -> None:
        ack()
        suggestion_id = _suggestion_id(action.get("value"))
        if suggestion_id is None:
            respond(response_type="ephemeral", replace_original=False, text=":warning: This button has no suggestion.")
            return
        container = body.get("container") or {}
        message = (container.get("channel_id") or (body.get("channel") or {}).get("id"), container.get("message_ts"))
        changed, text = decide(ctx, suggestion_id, body["user"]["id"], message)
        if not changed:
            respond(response_type="ephemeral", replace_original=False, text=f":information_source: {text}")

    @app.action(ACCEPT_ACTION_ID)
    def handle_accept(ack, body, action, respond):
        handle(service.accept, ack, body, action, respond)

    @app.action(DISMISS_ACTION_ID)
    def handle_dismiss(ack, body, action, respond):
        handle(service.dismiss, ack, body, action, respond)
