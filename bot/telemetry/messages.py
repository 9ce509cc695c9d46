"""Block Kit for the telemetry feature: the weekly SLO digest."""

from __future__ import annotations

from typing import Any

MAX_SLO_BLOCKS = 45  # Slack allows 50 blocks per message; the header and footer take the rest


def digest_text(total: int, burning: int) -> str:
    """Notification fallback."""
    return f"Weekly SLO digest: {total} SLO{'s' if total != 1 else ''}, {burning} burning budget too fast"


def digest_blocks(lines: list[str]) -> list[dict[str, Any]]:
    """Header, one section per SLO line, and where to look for more."""
    shown = lines[:MAX_SLO_BLOCKS]
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": "Weekly SLO digest"}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": line[:2900]}} for line in shown]
    more = f"{len(lines) - len(shown)} more SLOs not shown · " if len(lines) > len(shown) else ""
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": (
        f"{more}Remaining error budget over each SLO's window and burn rate per window, measured in Prometheus. "
        "Details and target suggestions: `firewatch slo report`")}]})
    return blocks
