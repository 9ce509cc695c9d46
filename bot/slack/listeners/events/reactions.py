"""A :pushpin: reaction on a message in an incident channel adds it to the timeline, once."""

from __future__ import annotations

from slack_bolt import App

from bot.context import AppContext
from bot.incidents import service as flows

TIMELINE_REACTIONS = {"pushpin", "round_pushpin"}


def register(app: App, ctx: AppContext, once) -> None:
    @app.event("reaction_added", middleware=[once])
    def handle_reaction_added(event):
        item = event.get("item") or {}
        if event.get("reaction") not in TIMELINE_REACTIONS or item.get("type") != "message":
            return
        flows.pin_message_to_timeline(ctx, item["channel"], item["ts"], event.get("user"))

    @app.event("reaction_removed")
    def ignore_reaction_removed():
        # Removing the pin does not rewrite history: the timeline keeps what was said.
        return
