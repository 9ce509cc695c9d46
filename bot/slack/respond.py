"""Replying to the person who asked: ephemeral, short, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

log = logging.getLogger(__name__)


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
