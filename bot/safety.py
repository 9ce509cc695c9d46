"""Making untrusted text (alert payloads, model output, user text echoed back) safe to post in Slack.

Slack turns `<!channel>`, `<!here>`, `<!everyone>`, `<@U…>`, `<!subteam^…>` and bare `@channel`/`@here` into
notifications. Text we did not write must never notify anyone, so it is escaped before it reaches a message.
"""

from __future__ import annotations

import logging
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


# --- Log hygiene ------------------------------------------------------------------------------------------------

_LOG_ESCAPES = str.maketrans({"\r": "\\r", "\n": "\\n"})
# Loggers whose messages may carry text from requests: ours, and bolt's (it logs request bodies).
_HYGIENIC_LOGGERS = ("bot", "storage", "slack_bolt", "firewatch")


def escape_log_text(text: str) -> str:
    """CR and LF shown as `\\r`/`\\n`, so text from a request can never start a forged log line."""
    return text.translate(_LOG_ESCAPES)


def _escape_arg(arg):
    if isinstance(arg, str):
        return escape_log_text(arg)
    if isinstance(arg, (int, float, bool)) or arg is None:
        return arg  # keeps %d and %.2f working
    text = str(arg)
    return escape_log_text(text) if ("\n" in text or "\r" in text) else arg


def _is_hygienic(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in _HYGIENIC_LOGGERS)


def install_log_hygiene() -> None:
    """Escape CR/LF in the message and arguments of every record from Firewatch's (and bolt's) loggers.

    Done in the record factory rather than a handler filter, so it holds whatever handlers the process (or
    pytest's caplog) installs. Tracebacks are added by the formatter later and keep their line breaks. Idempotent.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "firewatch_hygienic", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if _is_hygienic(record.name):
            if isinstance(record.msg, str):
                record.msg = escape_log_text(record.msg)
            elif record.msg is not None and not isinstance(record.msg, (int, float)):
                record.msg = escape_log_text(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(_escape_arg(a) for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: _escape_arg(v) for k, v in record.args.items()}
        return record

    factory.firewatch_hygienic = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
