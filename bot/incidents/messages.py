"""Block Kit views for incidents. Builders return plain dicts; user-provided text is escaped so it can never
mention anyone, and every time is a `<!date^…>` token shown in the reader's own zone."""

from __future__ import annotations

from typing import Any

from bot.core.durations import format_duration
from bot.core.slack_dates import slack_date
from bot.incidents.domain import ROLES, compute_metrics
from bot.safety import neutralize_mentions, truncate
from storage.models import Incident

STATUS_EMOJI = {"investigating": ":mag:", "identified": ":bulb:", "monitoring": ":eyes:", "resolved": ":white_check_mark:"}
DECLARE_CALLBACK = "incident_declare"


def _safe(text: str, limit: int = 2900) -> str:
    return truncate(neutralize_mentions(text), limit)


def incident_label(incident: Incident, prefix: str = "inc") -> str:
    return f"{prefix.upper()}-{incident.number}"


def channel_link(incident: Incident) -> str:
    return f"<#{incident.channel_id}>" if incident.channel_id else "_(channel not created yet)_"


def metrics_lines(incident: Incident) -> list[str]:
    m = compute_metrics(incident.created_at, incident.acknowledged_at, incident.mitigated_at, incident.resolved_at)
    return [
        f"Time to acknowledge: *{format_duration(m.time_to_acknowledge)}*",
        f"Time to mitigate: *{format_duration(m.time_to_mitigate)}*",
        f"Time to resolve: *{format_duration(m.time_to_resolve)}*",
    ]


def summary_blocks(incident: Incident, roles: dict[str, str], prefix: str, *,
                   recurred_from: int | None = None, budget_lines: list[str] | None = None) -> list[dict[str, Any]]:
    """The pinned summary in the incident channel, updated in place on every change. `recurred_from`: the number
    of the resolved incident whose alert group fired again and opened this one. `budget_lines`: one line per SLO
    of the incident's services (`Error budget: checkout-availability 60% left · burning 20× (1 h)`)."""
    role_text = " · ".join(f"{r}: <@{roles[r]}>" for r in ROLES if r in roles) or "no roles assigned yet"
    fields = [
        {"type": "mrkdwn", "text": f"*Severity*\n{incident.severity.upper()}"},
        {"type": "mrkdwn", "text": f"*Status*\n{STATUS_EMOJI.get(incident.status, '')} {incident.status}"},
        {"type": "mrkdwn", "text": f"*Declared*\n{slack_date(incident.created_at)}"},
        {"type": "mrkdwn", "text": f"*Reporter*\n<@{incident.reporter_id}>" if incident.reporter_id else "*Reporter*\nan alert"},
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": truncate(
            f"{incident_label(incident, prefix)}: {incident.title}", 150)}},
        {"type": "section", "fields": fields},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Roles*\n{role_text}"}},
    ]
    if recurred_from is not None:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": (
            f":repeat: *Recurred*: incident {prefix.upper()}-{recurred_from} "
            "(the same alert group fired again after that incident was resolved)")}})
    if incident.description:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*Description*\n" + _safe(incident.description)}})
    if budget_lines:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _safe(
            "\n".join(f":chart_with_downwards_trend: {line}" for line in budget_lines[:10]), 2900)}})
    if incident.status == "resolved":
        text = "\n".join(metrics_lines(incident))
        if incident.resolution_summary:
            text = "*Resolution*: " + _safe(incident.resolution_summary, 1500) + "\n" + text
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                   "Use `/incident help` for commands · react with :pushpin: to add a message to the timeline"}]})
    return blocks


def summary_text(incident: Incident, prefix: str) -> str:
    """Notification fallback for the summary message."""
    return f"{incident_label(incident, prefix)} [{incident.severity.upper()} · {incident.status}] {neutralize_mentions(incident.title)}"


def announcement_blocks(incident: Incident, prefix: str) -> list[dict[str, Any]]:
    emoji = ":rotating_light:" if incident.status != "resolved" else ":white_check_mark:"
    text = (f"{emoji} *{incident_label(incident, prefix)}* ({incident.severity.upper()} · {incident.status}): "
            f"{_safe(incident.title, 300)}\nJoin {channel_link(incident)} · declared {slack_date(incident.created_at)}")
    if incident.status == "resolved" and incident.resolved_at:
        text += f" · resolved {slack_date(incident.resolved_at)}"
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]


def update_text(incident: Incident, prefix: str, author: str | None, body: str) -> str:
    who = f"<@{author}>" if author else "Firewatch"
    return (f":loudspeaker: *Update on {incident_label(incident, prefix)}* ({incident.severity.upper()} · "
            f"{incident.status}) from {who}:\n{_safe(body)}")


def after_resolve_update_text(incident: Incident, prefix: str, author: str | None, body: str) -> str:
    """An update posted once the incident is resolved: said as such, and not announced."""
    who = f"<@{author}>" if author else "Firewatch"
    return (f":memo: *Note on {incident_label(incident, prefix)}* from {who} (the incident is resolved; "
            f"not announced):\n{_safe(body)}")


def reopened_text(incident: Incident, prefix: str, user: str, reason: str | None) -> str:
    why = f": {_safe(reason, 1500)}" if reason else ""
    return f":leftwards_arrow_with_hook: <@{user}> reopened *{incident_label(incident, prefix)}* (now investigating){why}"


def change_text(text: str) -> str:
    return f":arrows_counterclockwise: {text}"


def resolved_text(incident: Incident, prefix: str) -> str:
    lines = [f":white_check_mark: *{incident_label(incident, prefix)} resolved*"]
    if incident.resolution_summary:
        lines.append(_safe(incident.resolution_summary, 1500))
    lines.extend(metrics_lines(incident))
    return "\n".join(lines)


def list_blocks(incidents: list[Incident], prefix: str) -> list[dict[str, Any]]:
    if not incidents:
        return [{"type": "section", "text": {"type": "mrkdwn", "text": ":sunny: No open incidents."}}]
    lines = [f"• *{incident_label(i, prefix)}* {i.severity.upper()} · {i.status} · {channel_link(i)} — "
             f"{_safe(i.title, 200)} (declared {slack_date(i.created_at)})" for i in incidents[:40]]
    if len(incidents) > 40:
        lines.append(f"…and {len(incidents) - 40} more")
    return [{"type": "section", "text": {"type": "mrkdwn", "text": truncate("*Open incidents*\n" + "\n".join(lines), 2990)}}]


def declare_modal(severities: list[tuple[str, str]], default: str, channel_id: str | None, *,
                  private: bool = False) -> dict[str, Any]:
    """The `/incident declare` form: title, severity, description, private? (pre-ticked with `private`)"""
    options = [{"text": {"type": "plain_text", "text": truncate(f"{name.upper()} — {desc}" if desc else name.upper(), 75)},
                "value": name} for name, desc in severities]
    initial = next((o for o in options if o["value"] == default), options[0])
    private_option = {"text": {"type": "plain_text", "text": "Private channel (security or sensitive incidents)"},
                      "value": "private"}
    return {
        "type": "modal", "callback_id": DECLARE_CALLBACK, "private_metadata": channel_id or "",
        "title": {"type": "plain_text", "text": "Declare an incident"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"},
             "element": {"type": "plain_text_input", "action_id": "value", "max_length": 150,
                         "placeholder": {"type": "plain_text", "text": "Checkout API returning 500s"}}},
            {"type": "input", "block_id": "severity", "label": {"type": "plain_text", "text": "Severity"},
             "element": {"type": "static_select", "action_id": "value", "options": options, "initial_option": initial}},
            {"type": "input", "block_id": "description", "optional": True,
             "label": {"type": "plain_text", "text": "What do you see?"},
             "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 2500}},
            {"type": "input", "block_id": "private", "optional": True,
             "label": {"type": "plain_text", "text": "Visibility"},
             "element": {"type": "checkboxes", "action_id": "value", "options": [private_option],
                         **({"initial_options": [private_option]} if private else {})}},
        ],
    }
