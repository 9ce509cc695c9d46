"""Block Kit for follow-ups, catch-ups and update nudges."""

from __future__ import annotations

from datetime import datetime

from bot.core.slack_dates import slack_date
from bot.safety import neutralize_mentions

POST_UPDATE_ACTION = "followups_post_update"
POST_UPDATE_VIEW = "followups_post_update_view"
PRIVATE = "private"  # the "problem" of a private incident's follow-up: never sent to a tracker


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def followup_posted_text(item_id: int, kind: str, owner: str | None, text: str, issue_url: str | None,
                         tracker_label: str | None, problem: str | None) -> str:
    """The channel message for a new follow-up, saying where its issue is (or why there is none)."""
    owner_text = f" for <@{owner}>" if owner else ""
    line = f":clipboard: Follow-up #{item_id} ({kind}){owner_text}: {neutralize_mentions(text)}"
    if issue_url:
        line += f"\n:link: {tracker_label} issue: <{issue_url}>"
    elif problem == PRIVATE:
        line += f"\n:lock: Private incident: no {tracker_label} issue was opened, so nothing about it leaves Slack."
    elif problem:
        line += (f"\n:warning: Recorded here, but no {tracker_label} issue was created ({neutralize_mentions(problem)}). "
                 "Ask an admin to check the tracker credentials; the follow-up itself is kept.")
    return line


def followups_blocks(label: str, rows: list[tuple[int, str, str | None, str, str | None, bool]]) -> list[dict]:
    """`rows`: (id, text, owner id, age, issue url, overdue) of the open follow-ups."""
    if not rows:
        return [_section(f"*Open follow-ups of {label}*\nNone. Add one with `/incident followup <text> [@owner]`.")]
    lines = []
    for item_id, text, owner, age, url, overdue in rows:
        who = f"<@{owner}>" if owner else "_no owner_"
        link = f" · <{url}|issue>" if url else ""
        late = " · :warning: *overdue*" if overdue else ""
        lines.append(f"• #{item_id} {neutralize_mentions(text)} — {who} · open {age}{late}{link}")
    return [_section(f"*Open follow-ups of {label}* ({len(rows)})\n" + "\n".join(lines))]


def overdue_text(item_id: int, label: str, severity: str, text: str, age: str, sla: str, url: str | None) -> str:
    link = f" · <{url}|issue>" if url else ""
    return (f":hourglass: Follow-up #{item_id} of {label} is overdue: open {age}, the {severity.upper()} target is {sla}. "
            f"“{neutralize_mentions(text)}”{link}. Close it upstream, or say in {label}'s channel when it will land.")


def catchup_blocks(*, label: str, title: str, severity: str, status: str, declared_at: datetime,
                   roles: dict[str, str], updates: list[tuple[datetime, str]], questions: list[str],
                   open_followups: int, drafted=None) -> list[dict]:
    """The ephemeral "catch me up" summary: the model's cited draft (`bot.followups.catchup.Drafted`) when there
    is one, else the latest updates and questions from the timeline."""
    role_text = " · ".join(f"{role}: <@{user}>" if user else f"{role}: _unassigned_" for role, user in roles.items())
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Catch-up: {label}"[:150]}},
        _section(f"*{neutralize_mentions(title)}*\n{severity.upper()} · *{status}* · declared {slack_date(declared_at)}"),
        _section(f"*Roles* {role_text}"),
    ]
    if drafted is not None:
        return blocks + _drafted_blocks(drafted, open_followups)
    if updates:
        lines = [f"• {slack_date(at, '{time}')} {neutralize_mentions(text)}" for at, text in updates]
        blocks.append(_section("*Latest*\n" + "\n".join(lines)))
    else:
        blocks.append(_section("*Latest*\nNo updates yet."))
    if questions:
        blocks.append(_section("*Open questions*\n" + "\n".join(f"• {neutralize_mentions(q)}" for q in questions)))
    blocks.append(_context(f"{open_followups} open follow-up(s) · from the timeline only; "
                           "`/incident timeline` shows everything"))
    return blocks


def _cited(line) -> str:
    """A drafted claim with the times of the timeline entries it cites (already neutralised)."""
    times = ", ".join(slack_date(at, "{time}") for at in line.cited_at)
    return f"• {line.text} _(timeline {times})_"


def _drafted_blocks(drafted, open_followups: int) -> list[dict]:
    blocks = [_section("*What happened*\n" + "\n".join(_cited(line) for line in drafted.summary))]
    if drafted.questions:
        blocks.append(_section("*Open questions*\n" + "\n".join(_cited(line) for line in drafted.questions)))
    dropped = f" · {drafted.dropped} uncited claim(s) left out" if drafted.dropped else ""
    blocks.append(_context(f"{open_followups} open follow-up(s) · drafted by {neutralize_mentions(drafted.model)} "
                           f"from the timeline, each line cites its entries{dropped}; `/incident timeline` shows "
                           "everything"))
    return blocks


def nudge_blocks(incident_id: int, commander: str | None, silent_for: str, unassigned: list[str]) -> list[dict]:
    who = f"<@{commander}>" if commander else "Commander (unassigned)"
    text = f":alarm_clock: {who}: no update for {silent_for}. Stakeholders are waiting; post where things stand."
    blocks = [_section(text)]
    if unassigned:
        blocks.append(_context("Unassigned roles: " + ", ".join(unassigned) + " — `/incident role <role> @user`"))
    blocks.append({"type": "actions", "elements": [{
        "type": "button", "action_id": POST_UPDATE_ACTION, "value": str(incident_id), "style": "primary",
        "text": {"type": "plain_text", "text": "Post update"}}]})
    return blocks


def nudge_text(commander: str | None, silent_for: str) -> str:
    who = f"<@{commander}>" if commander else "Commander (unassigned)"
    return f"{who}: no update for {silent_for}; post one with the button or `/incident update <text>`."


def post_update_modal(incident_id: int, label: str) -> dict:
    return {"type": "modal", "callback_id": POST_UPDATE_VIEW, "private_metadata": str(incident_id),
            "title": {"type": "plain_text", "text": "Post update"},
            "submit": {"type": "plain_text", "text": "Post"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [{"type": "input", "block_id": "update", "label": {"type": "plain_text", "text": f"Update for {label}"},
                        "element": {"type": "plain_text_input", "action_id": "text", "multiline": True,
                                    "max_length": 2900}}]}
