"""Block Kit for a rotation's coverage report (times as `<!date^…>` tokens, so each reader sees their zone)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.slack_dates import slack_date
from bot.coverage.domain import Problem

MAX_LINES = 40  # a section holds 3,000 characters; past this the rest is counted, and the CLI shows it all


def _when(p: Problem) -> str:
    if p.start is None:
        return "all of the next 14 days"
    if p.end is None:
        return f"on call from {slack_date(p.start)}"
    return f"{slack_date(p.start)} to {slack_date(p.end)}"


def problem_line(p: Problem) -> str:
    return f"• *{p.what}* — {p.who} — {_when(p)}\n    _Fix:_ {p.fix}"


def report(scope: str, problems: Sequence[Problem], *, had_problems: bool) -> tuple[str, list[dict]]:
    """(fallback text, blocks) for one rotation's (or policy's) problems; an empty list is the all-clear."""
    name = scope.split(":", 1)[1] if scope.startswith("policy:") else scope
    what = f"escalation policy *{name}*" if scope.startswith("policy:") else f"rotation *{name}*"
    if not problems:
        text = f":white_check_mark: Coverage of {what} is complete for the next 14 days (the problems reported " \
               "earlier are fixed)." if had_problems else f"Coverage of {what} is complete for the next 14 days."
        return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    head = f":warning: Coverage problems for {what} in the next 14 days ({len(problems)}):"
    lines = [problem_line(p) for p in problems[:MAX_LINES]]
    if len(problems) > MAX_LINES:
        lines.append(f"…and {len(problems) - MAX_LINES} more; an admin can list them all.")
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2800:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
    return head + "\n" + "\n".join(lines[:5]), blocks
