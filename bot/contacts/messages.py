"""Block Kit for `/oncall contact` replies. Addresses are masked (channels are not private to one person)."""

from __future__ import annotations

from typing import Any, Sequence

from bot.contacts.domain.rules import Step, mask
from bot.core.durations import format_duration

USAGE = ("`/oncall contact add sms|voice|email|push <number, address or URL>`, `/oncall contact list`, "
         "`/oncall contact remove <number>`, `/oncall contact test`")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def reply(text: str) -> tuple[str, list[dict[str, Any]]]:
    return text, [section(escape(text).replace("&lt;@", "<@"))]


def list_blocks(user: str, views: Sequence, steps: Sequence[Step]) -> tuple[str, list[dict[str, Any]]]:
    """Your methods, numbered, and when each would be tried after a page reaches you."""
    if not views:
        text = "You have no contact methods besides Slack. Add one: `/oncall contact add sms +447700900123`."
        return text, [section(text)]
    lines = [f"*{v.index}.* {v.kind} `{escape(mask(v.address))}` ({v.source})" for v in views]
    order = [f"after {format_duration(s.after)}: {', '.join(m.kind for m in s.methods)}" for s in steps]
    plan = ("When a page reaches you (Slack first): " + "; ".join(order)) if order else \
        "None of your methods is used by your rules; a page reaches you in Slack only."
    text = f"Contact methods of <@{user}>:\n" + "\n".join(lines)
    return text, [section(text), context(plan), context("Remove one with `/oncall contact remove <number>`.")]


def test_blocks(results: Sequence) -> tuple[str, list[dict[str, Any]]]:
    """Outcome of `/oncall contact test`, one line per method."""
    if not results:
        text = "You have no contact methods to test. Add one: `/oncall contact add sms +447700900123`."
        return text, [section(text)]
    lines = [f"{':white_check_mark:' if d.ok else ':x:'} {m.kind} `{escape(mask(m.address))}`: {escape(d.detail)}"
             for m, d in results]
    failed = sum(1 for _m, d in results if not d.ok)
    head = "Test sent through every method." if not failed else f"{failed} of {len(results)} methods failed."
    text = head + "\n" + "\n".join(lines)
    return text, [section(text)]


_METHOD_NAMES = {"sms": "SMS", "voice": "call", "push": "push", "email": "email"}


def attempts_text(rows: Sequence) -> str:
    """One mrkdwn line of a page's attempts for its Slack message: `SMS …0123 sent <time> · call …0123 failed`."""
    from bot.core.slack_dates import slack_date

    parts = [f"{_METHOD_NAMES.get(a.method, a.method)} to <@{a.user_id}> `{escape(a.address)}` {a.result} "
             f"{slack_date(a.at, '{time}')}" for a in rows]
    return " · ".join(parts)
