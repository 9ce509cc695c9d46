"""Turning model-provided text into something safe to post in Slack.

Choice: placeholders are mapped back to *names*, never to `<@U…>` mentions. A suggestion is read by responders in
the incident channel; notifying someone because a model named them would let model output (and through it, alert
text) page people. So `responder-2` becomes the display name returned by the caller's `display_name(user_id)`
callback, or the bare user id (which Slack renders as plain text) when no callback is given. Afterwards every
string goes through `bot.safety.neutralize_mentions`, which also neutralises anything the name itself contains.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.safety import neutralize_mentions, truncate

DisplayName = Callable[[str], str | None]

_PLACEHOLDER = re.compile(r"\[EMAIL-[0-9]+\]|\bresponder-[0-9]+\b")


def restore_for_display(text: str, mapping: Mapping[str, str], display_name: DisplayName | None = None) -> str:
    """Map the bot's own placeholders back (people as plain names), then neutralise mentions."""

    def sub(m: re.Match[str]) -> str:
        placeholder = m.group(0)
        original = mapping.get(placeholder)
        if original is None:  # a placeholder the bot did not create: leave it as text
            return placeholder
        if placeholder.startswith("responder-"):
            name = None
            if display_name is not None:
                try:
                    name = display_name(original)
                except Exception:  # a failing lookup must not lose the suggestion
                    name = None
            return name or original
        return original

    return neutralize_mentions(_PLACEHOLDER.sub(sub, text or ""))


def display_text(text: str, mapping: Mapping[str, str], display_name: DisplayName | None = None, limit: int = 1500) -> str:
    """One paragraph, placeholders mapped back, mentions neutralised, truncated to `limit` for Slack."""
    # Collapse whitespace first: model line breaks could otherwise fake Slack message structure.
    flat = re.sub(r"\s+", " ", text or "").strip()
    return truncate(restore_for_display(flat, mapping, display_name), limit)
