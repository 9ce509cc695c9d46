"""The "Take these shifts" button on `/oncall cover` offers (value = RotationCoverOffer id). Only the members the
offer was sent to can take it; the first accept wins, a later one is told who took it."""

from __future__ import annotations

from slack_bolt import App

from bot.context import AppContext
from bot.core.numbers import small_int
from bot.rotations import flows
from bot.rotations.messages import COVER_TAKE
from bot.rotations.service import RotationError
from bot.safety import neutralize_broadcasts


def register(app: App, ctx: AppContext, _once=None) -> None:
    @app.action(COVER_TAKE)
    def handle_take(ack, body, action, respond):
        ack()
        offer_id = small_int(action.get("value", ""))
        if offer_id is None:
            respond(response_type="ephemeral", replace_original=False, text=":warning: This button has no cover request.")
            return
        try:
            text, done = flows.take_cover(ctx, offer_id, body["user"]["id"])
        except RotationError as exc:
            text, done = f":warning: {neutralize_broadcasts(str(exc))}", False
        # The offer DM itself is rewritten for everyone when taken; this answer is for the person who clicked.
        respond(response_type="ephemeral", replace_original=False, text=text)
