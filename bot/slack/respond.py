"""Replying to the person who asked: ephemeral, short, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient

log = logging.getLogger(__name__)

SLACK_RESPONSE_HOST = "hooks.slack.com"


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:  # a malformed port or bracket
        return None


def is_slack_response_url(url: str, settings: Any) -> bool:
    """True only for Slack's own response_url host (https://hooks.slack.com) or the host of the configured Web API
    (GovSlack, or the local stand-in in tests and the demo): a response_url is never a way to make us call others."""
    origin = _origin(url)
    if origin is None:
        return False
    if origin[:2] == ("https", SLACK_RESPONSE_HOST) and origin[2] in (None, 443):
        return True
    api = _origin(getattr(settings, "normalized_slack_api_url", "") or "")
    return api is not None and bool(api[1]) and origin == api


def tell_user(*, respond: Any = None, client: WebClient | None = None, channel: str | None = None,
              user: str | None = None, text: str, blocks: list[dict] | None = None) -> None:
    """Send `text` only to `user`: through the command's response_url when there is one, else as an ephemeral
    message, else as a DM. Failures are logged, not raised (the user reply is never worth a crash)."""
    try:
        if respond is not None:
            respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
            return
        if client is not None and user:
            if channel:
                client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
            else:
                dm = client.conversations_open(users=user)["channel"]["id"]
                client.chat_postMessage(channel=dm, text=text, blocks=blocks)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not reply to %s: %s", user, exc)
