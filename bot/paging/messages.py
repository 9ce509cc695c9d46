"""Slack message content for paging, as plain text and Block Kit dicts (no Slack SDK imports).

Alert text comes from whoever can reach the webhook, so every piece of it goes through
`bot.safety.neutralize_mentions` before it is placed in a message: `<!here>`, `<@U123>` or `@channel` in an alert
must not notify anyone. Only Firewatch's own wording and Slack ids that came from Slack itself are left as is.

Builders of whole messages return `{"text": ..., "blocks": [...]}`, ready for `chat.postMessage(**message)`;
`text` is the notification/fallback text. Slack limits are respected (section text 3000, button text 75,
header 150, block_id 255, 50 blocks).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.core.numbers import small_int
from bot.core.mentions import is_user_id, mention_user
from bot.core.slack_dates import slack_date
from bot.paging.domain.alerts import Alert, AlertGroup
from bot.paging.domain.config import NotifyTarget
from bot.paging.domain.escalation import Position
from bot.safety import neutralize_mentions

ACK_ACTION_ID = "page_ack"
ESCALATE_ACTION_ID = "page_escalate"
LINK_ACTION_PREFIX = "page_link_"  # link buttons still send block_actions; the app should ack and ignore them
BLOCK_ID_PREFIX = "page_actions"

SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
CONTEXT_TEXT_LIMIT = 2000
BUTTON_TEXT_LIMIT = 75
HEADER_TEXT_LIMIT = 150
BLOCK_ID_LIMIT = 255
URL_LIMIT = 3000
FALLBACK_TEXT_LIMIT = 3000
UNROUTED_LIST_LIMIT = 10

_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,4}$")


# -- text helpers -------------------------------------------------------------------------------------------

def safe_text(text: str | None, limit: int = SECTION_TEXT_LIMIT) -> str:
    """Neutralise untrusted text and shorten it to `limit` characters without cutting an `&lt;` in half."""
    escaped = neutralize_mentions(text or "")
    if len(escaped) <= limit:
        return escaped
    cut = _PARTIAL_ENTITY.sub("", escaped[: limit - 1])
    return cut + "…"


def safe_line(text: str | None, limit: int) -> str:
    """Like `safe_text` but on one line (titles, list items): newlines become spaces."""
    return safe_text(" ".join((text or "").split()), limit)


def _clip(text: str, limit: int) -> str:
    """Shorten our own (already safe) text."""
    return text if len(text) <= limit else _PARTIAL_ENTITY.sub("", text[: limit - 1]) + "…"


def user_mention(user_id: str | None) -> str:
    """`<@U123>` for a real Slack user id (from Slack's own payloads); anything else is shown, escaped, as text."""
    if is_user_id(user_id):
        return mention_user(user_id)
    return safe_line(user_id or "someone", 80)


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit), "emoji": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(_clip(text, SECTION_TEXT_LIMIT))}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(_clip(text, CONTEXT_TEXT_LIMIT))]}


def _is_http(url: str | None) -> bool:
    return bool(url) and len(url) <= URL_LIMIT and url.lower().startswith(("https://", "http://"))  # type: ignore[union-attr]


# -- page content -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageContent:
    """What a page is about, independent of who is paged. All strings raw (escaped when rendered)."""

    title: str
    details: str = ""
    severity: str | None = None
    links: tuple[tuple[str, str], ...] = ()  # (button text we choose, untrusted url)
    labels: tuple[tuple[str, str], ...] = ()
    started_at: datetime | None = None
    source: str | None = None  # "alertmanager", "grafana", or None for a manual page

    @classmethod
    def from_alert(cls, alert: Alert, severity: str | None = None) -> "PageContent":
        """Content for a page raised by an alert."""
        details = alert.description
        if alert.value_string:
            details = (details + "\n" if details else "") + f"Values: {alert.value_string}"
        links = tuple(
            (text, url)
            for text, url in (
                ("Runbook", alert.runbook_url),
                ("Dashboard", alert.dashboard_url),
                ("Panel", alert.panel_url),
                ("Source", alert.generator_url),
                ("Silence", alert.silence_url),
            )
            if _is_http(url)
        )
        return cls(
            title=alert.title,
            details=details,
            severity=severity,
            links=links,
            labels=tuple(sorted(alert.labels.items())),
            started_at=alert.starts_at,
            source=alert.source,
        )

    @classmethod
    def from_alerts(cls, alerts: Sequence[Alert], severity: str | None = None) -> "PageContent":
        """Content for a page carrying a whole alert group: the first alert's links, the labels every alert
        shares, a `[FIRING:n]` title and one line per alert (the first few)."""
        first = cls.from_alert(alerts[0], severity)
        if len(alerts) == 1:
            return first
        common = [(k, v) for k, v in first.labels if all(a.labels.get(k) == v for a in alerts)]
        lines = [f"• {_alert_summary_line(a, dict(common))}" for a in alerts[:GROUP_LINES]]
        if len(alerts) > GROUP_LINES:
            lines.append(f"… and {len(alerts) - GROUP_LINES} more")
        summary = alerts[0].summary if all(a.summary == alerts[0].summary for a in alerts) else ""
        title = f"[FIRING:{len(alerts)}] {alerts[0].name}" + (f": {summary}" if summary != alerts[0].name and summary
                                                              else "")
        starts = [a.starts_at for a in alerts if a.starts_at]
        return replace(first, title=title, details="\n".join(lines), labels=tuple(common),
                       started_at=min(starts) if starts else None)


# Alerts listed one per line in a group page; the rest are counted (a page stays readable in an alert storm).
GROUP_LINES = 10
_STATUS_PREFIX = re.compile(r"^\[(?:FIRING|RESOLVED)(?::\d+)?\]\s*")


def _alert_summary_line(alert: Alert, common: dict[str, str]) -> str:
    """`summary (labels this alert does not share with the group)`."""
    own = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if common.get(k) != v)
    return alert.summary + (f" ({own})" if own else "")


def without_status(title: str) -> str:
    """A title without its `[FIRING:n]` head, for texts saying the page is over."""
    return _STATUS_PREFIX.sub("", title) or title


def page_action_block_id(page_id: str, position: Position) -> str:
    """block_id of the Acknowledge/Escalate block: carries the step the DM was sent for.

    Slack echoes block_id in block_actions payloads, so the handler can pass the position as
    `escalate(..., expected=...)` and a second click on an old DM does not escalate twice.
    """
    block_id = f"{BLOCK_ID_PREFIX}:{position.pass_number}:{position.step_index}:{str(page_id)}"
    return block_id[:BLOCK_ID_LIMIT]


def parse_page_action_block_id(block_id: str | None) -> tuple[str, Position] | None:
    """Inverse of `page_action_block_id`: (page_id, position), or None for any other block_id."""
    if not block_id:
        return None
    parts = block_id.split(":", 3)
    if len(parts) != 4 or parts[0] != BLOCK_ID_PREFIX:
        return None
    pass_number, step_index = small_int(parts[1]), small_int(parts[2])
    if pass_number is None or step_index is None:
        return None
    return parts[3], Position(pass_number=pass_number, step_index=step_index)


def _content_blocks(page_id: str, content: PageContent, context_bits: Sequence[str]) -> list[dict[str, Any]]:
    header = "Page" + (f" · {content.severity}" if content.severity else "")
    body = f"*{safe_line(content.title, 500)}*"
    if content.details.strip():
        body += "\n" + safe_text(content.details.strip(), SECTION_TEXT_LIMIT - len(body) - 1)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain(header, HEADER_TEXT_LIMIT)},
        _section(body),
    ]
    if content.labels:
        shown = content.labels[:20]
        text = ", ".join(f"{safe_line(k, 60)}={safe_line(v, 120)}" for k, v in shown)
        if len(content.labels) > len(shown):
            text += f" (+{len(content.labels) - len(shown)} more)"
        blocks.append(_context("Labels: " + text))
    bits = [f"Page `{safe_line(page_id, 80)}`", *context_bits]
    if content.started_at:
        bits.append(f"started {slack_date(content.started_at)}")
    blocks.append(_context(" · ".join(bits)))
    return blocks


def _link_buttons(content: PageContent) -> list[dict[str, Any]]:
    buttons = []
    for i, (text, url) in enumerate(content.links[:5]):
        if _is_http(url):
            buttons.append(
                {
                    "type": "button",
                    "text": _plain(text, BUTTON_TEXT_LIMIT),
                    "url": url,
                    "action_id": f"{LINK_ACTION_PREFIX}{i}",
                }
            )
    return buttons


def page_message(
    page_id: str,
    content: PageContent,
    *,
    policy_name: str,
    position: Position,
    total_steps: int | None = None,
    repeat: int | None = None,
    target: NotifyTarget | None = None,
) -> dict[str, Any]:
    """The DM sent to the person being paged: what, why them, and Acknowledge/Escalate buttons.

    Both buttons carry `value = page_id`; their block's block_id carries the position (see
    `page_action_block_id`).
    """
    page_id = str(page_id)
    step = f"step {position.step_index + 1}" + (f" of {total_steps}" if total_steps else "")
    if repeat and repeat > 1:
        step += f", pass {position.pass_number} of {repeat}"
    bits = [f"policy *{safe_line(policy_name, 80)}*", step]
    if target is not None and target.kind == "rotation":
        bits.append(f"you are on call for *{safe_line(target.describe(), 100)}*")
    blocks = _content_blocks(page_id, content, bits)
    value = page_id[:2000]
    blocks.append(
        {
            "type": "actions",
            "block_id": page_action_block_id(page_id, position),
            "elements": [
                {
                    "type": "button",
                    "text": _plain("Acknowledge", BUTTON_TEXT_LIMIT),
                    "style": "primary",
                    "action_id": ACK_ACTION_ID,
                    "value": value,
                },
                {
                    "type": "button",
                    "text": _plain("Escalate", BUTTON_TEXT_LIMIT),
                    "style": "danger",
                    "action_id": ESCALATE_ACTION_ID,
                    "value": value,
                },
            ],
        }
    )
    links = _link_buttons(content)
    if links:
        blocks.append({"type": "actions", "block_id": f"page_links:{page_id}"[:BLOCK_ID_LIMIT], "elements": links})
    text = _clip(f"You are being paged: {safe_line(content.title, 500)}", FALLBACK_TEXT_LIMIT)
    return {"text": text, "blocks": blocks}


def page_message_closed(page_id: str, content: PageContent, status_text: str) -> dict[str, Any]:
    """The same DM after it was handled (for chat.update): no Acknowledge/Escalate, a status line instead.

    `status_text` is Firewatch's own wording (e.g. from `ack_confirmation_text`), used as is.
    """
    blocks = _content_blocks(page_id, content, [])
    blocks.append(_section(status_text))
    links = _link_buttons(content)
    if links:
        blocks.append({"type": "actions", "block_id": f"page_links:{page_id}"[:BLOCK_ID_LIMIT], "elements": links})
    return {"text": _clip(status_text, FALLBACK_TEXT_LIMIT), "blocks": blocks}


# -- one-line texts -----------------------------------------------------------------------------------------

def ack_confirmation_text(page_id: str, title: str, actor: str | None) -> str:
    """Said after someone acknowledges: escalation has stopped."""
    return (
        f"{user_mention(actor)} acknowledged page `{safe_line(page_id, 80)}`: {safe_line(title, 500)}. "
        "Escalation has stopped."
    )


def escalation_text(page_id: str, title: str, target: NotifyTarget | str, actor: str | None = None) -> str:
    """Said when a page moves on: by a person's Escalate button, or (actor None) by the timeout."""
    who = target.describe() if isinstance(target, NotifyTarget) else target
    if isinstance(target, NotifyTarget) and target.kind == "user":
        who_text = user_mention(target.name)
    else:
        who_text = f"*{safe_line(who, 100)}*"
    why = f"{user_mention(actor)} escalated" if actor else "Nobody acknowledged in time; escalated"
    return f"{why} page `{safe_line(page_id, 80)}` ({safe_line(title, 500)}) to {who_text}."


def nobody_acknowledged_text(
    page_id: str, title: str, policy_name: str, passes: int, *, mention_here: bool = False
) -> str:
    """Said in the policy's channel when every step was tried `passes` times without an acknowledgement.

    `mention_here` prefixes Firewatch's own `<!here>`: the one broadcast we may choose to send.
    """
    times = "once" if passes == 1 else f"{passes} times"
    text = (
        f"Nobody acknowledged page `{safe_line(page_id, 80)}` ({safe_line(title, 500)}). "
        f"Escalation policy *{safe_line(policy_name, 80)}* went through every step {times} and paging has "
        "stopped. Someone needs to pick this up."
    )
    return ("<!here> " + text) if mention_here else text


def resolution_note_text(
    page_id: str, title: str, *, resolved_by: str | None = None, note: str = "", by_alert: bool = False
) -> str:
    """Said when a page is resolved, by a person or by the alert resolving (`by_alert`)."""
    if by_alert:
        who = "The alert resolved"
    elif resolved_by:
        who = f"{user_mention(resolved_by)} resolved"
    else:
        who = "Resolved"
    text = f"{who}: page `{safe_line(page_id, 80)}` ({safe_line(without_status(title), 500)})."
    if note.strip():
        text += " Note: " + safe_text(note.strip(), 1500)
    return _clip(text, SECTION_TEXT_LIMIT)


# -- unrouted alerts ----------------------------------------------------------------------------------------

def _alert_line(alert: Alert) -> str:
    labels = ", ".join(f"{safe_line(k, 40)}={safe_line(v, 80)}" for k, v in sorted(alert.labels.items()))
    return f"• *{safe_line(alert.title, 200)}*\n    `{_clip(labels, 400)}`"


def unrouted_alert_report(group: AlertGroup, alerts: Iterable[Alert] | None = None) -> dict[str, Any]:
    """Message for `webhooks.fallback_channel` listing alerts that matched no alert route.

    `alerts` defaults to every alert of the group; at most 10 are listed, then a count.
    """
    items = list(group.alerts if alerts is None else alerts)
    n = len(items)
    noun = "alert" if n == 1 else "alerts"
    sender = "Grafana" if group.source == "grafana" else "Alertmanager"
    receiver = f" (receiver {safe_line(group.receiver, 80)})" if group.receiver else ""
    headline = f"{n} {noun} from {sender}{receiver} matched no alert route, so nobody was paged."
    lines = [_alert_line(a) for a in items[:UNROUTED_LIST_LIMIT]]
    if n > UNROUTED_LIST_LIMIT:
        lines.append(f"…and {n - UNROUTED_LIST_LIMIT} more.")
    blocks: list[dict[str, Any]] = [_section(f"*{headline}*")]
    # Pack the list into as few sections as the 3000-character limit allows.
    chunk = ""
    for line in lines:
        if chunk and len(chunk) + 1 + len(line) > SECTION_TEXT_LIMIT:
            blocks.append(_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(_section(chunk))
    blocks.append(
        _context(
            "Add an entry under `alert_routes` in firewatch.yaml whose `match` labels fit these alerts"
            + (f" · group `{safe_line(group.group_key, 200)}`" if group.group_key else "")
        )
    )
    return {"text": _clip(headline, FALLBACK_TEXT_LIMIT), "blocks": blocks[:50]}
