"""Slack mrkdwn to plain text, written once: postmortem documents and the demo transcript both need it.

Mentions become `@Name` / `#name` through the caller's lookups (a name cannot be known here), `<!date^…|fallback>`
its fallback text, links `label (url)`, and HTML entities (Slack escapes `<`, `>` and `&`) are decoded.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from bot.core.mentions import CHANNEL_MENTION, USER_MENTION

_SPECIAL = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>")
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_WORD_JOINER = "\u2060"  # inserted by bot.core to defuse mentions; invisible, so dropped from plain text


def _default_channel(channel_id: str, label: str | None) -> str:
    return "#" + (label or channel_id)


def to_plain_text(text: str | None, user_name: Callable[[str], str | None],
                  channel_name: Callable[[str, str | None], str] = _default_channel) -> str:
    """Plain text for `text`; `user_name(id)` may return None (the id is shown instead)."""
    text = USER_MENTION.sub(lambda m: "@" + (user_name(m.group(1)) or m.group(1)), text or "")
    text = CHANNEL_MENTION.sub(lambda m: channel_name(m.group(1), m.group(2)), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = _SUBTEAM.sub(lambda m: m.group(1) or "@group", text)
    text = _DATE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) and m.group(2) != m.group(1)
                     else m.group(1), text)
    return html.unescape(text).replace(_WORD_JOINER, "")
