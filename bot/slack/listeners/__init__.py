"""Slack listeners: the edge that parses a Slack request, authorises it, calls a feature's service and renders
the reply. `register_all` is the one place every listener is registered (features never import listeners)."""

from __future__ import annotations

import importlib
from typing import Callable

from slack_bolt import App

from bot.context import AppContext
from bot.slack.listeners.actions import assist_buttons, oncall_buttons, page_buttons
from bot.slack.listeners.commands import incident, oncall, page
from bot.slack.listeners.events import reactions
from bot.slack.listeners.views import declare

# Modules with `register(app, ctx, once_per_event)`; `once_per_event` de-duplicates Events API deliveries.
LISTENER_MODULES = (incident, declare, reactions, page, page_buttons, oncall, oncall_buttons, assist_buttons)
# Listener modules of newer features, registered when present (the same contract as LISTENER_MODULES).
OPTIONAL_LISTENER_MODULES = (
    "bot.slack.listeners.actions.contact_buttons",
    "bot.slack.listeners.actions.followup_buttons",
    "bot.slack.listeners.actions.incident_buttons",
    "bot.slack.listeners.actions.rotation_buttons",
    "bot.slack.listeners.actions.telemetry_buttons",
)


def _optional_modules() -> list:
    found = []
    for name in OPTIONAL_LISTENER_MODULES:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a broken import inside a present module is an error, not "absent"
                raise
    return found


def register_all(app: App, ctx: AppContext, once_per_event: Callable) -> None:
    """Register every Firewatch listener on `app`."""
    for module in (*LISTENER_MODULES, *_optional_modules()):
        module.register(app, ctx, once_per_event)
