"""Making untrusted text (alert payloads, model output, user text echoed back) safe to post in Slack.

Slack turns `<!channel>`, `<!here>`, `<!everyone>`, `<@U…>`, `<!subteam^…>` and bare `@channel`/`@here` into
notifications. Text we did not write must never notify anyone, so it is escaped before it reaches a message.
"""

from __future__ import annotations

import re

_CONTROL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# Bare @channel/@here/@everyone are also parsed by Slack in some clients when link_names is on: break them with a
# zero-width joiner so they read the same but do not notify.
_BARE_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def neutralize_mentions(text: str) -> str:
    """Escape Slack control sequences so no user, group or broadcast mention survives."""
    escaped = text.translate(_CONTROL)
    return _BARE_BROADCAST.sub(lambda m: "@\u2060" + m.group(1), escaped)


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """Shorten `text` to at most `limit` characters (Slack rejects oversize fields)."""
    return text if len(text) <= limit else text[: max(0, limit - len(marker))] + marker


_BROADCAST_TOKEN = re.compile(r"<!(channel|here|everyone|subteam\^[^>]*)(\|[^>]*)?>", re.IGNORECASE)


def neutralize_broadcasts(text: str) -> str:
    """Escape only group and broadcast mentions, keeping `<@U…>` user mentions readable; for text shown to one
    person (ephemeral), where a user mention notifies nobody but a stray `<!channel>` should still not render."""
    escaped = _BROADCAST_TOKEN.sub(lambda m: m.group(0).replace("<", "&lt;").replace(">", "&gt;"), text)
    return _BARE_BROADCAST.sub(lambda m: "@\u2060" + m.group(1), escaped)
