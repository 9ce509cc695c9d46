"""A :pushpin: reaction on a message in an incident channel adds it to the timeline, once (and says so)."""

from __future__ import annotations

from slack_bolt import App

from bot.context import AppContext
from bot.incidents import service


def register(app: App, ctx: AppContext, once) -> None:
    @app.event("reaction_added", middleware=[once])
    def handle_reaction_added(event):
        service.timeline_reaction(ctx, event)

    @app.event("reaction_removed")
    def ignore_reaction_removed():
        # Removing the pin does not rewrite history: the timeline keeps what was said.
        return
