"""`followups:` section of firewatch.yaml and the follow-up rules (plain Python)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.catalog.domain import TRACKER
from bot.core.durations import format_duration, parse_duration


class FollowupsConfig(BaseModel):
    """Follow-up trackers and SLAs."""

    model_config = ConfigDict(extra="forbid")
    # Tracker used when the incident names no service with a tracker: `github:owner/repo` or `jira:KEY`.
    default_tracker: str | None = None
    github_api_url: str = "https://api.github.com"
    github_token_env: str = "GITHUB_TOKEN"
    # Jira Cloud: the site URL, e-mail and API token are read from these environment variables.
    jira_url_env: str = "JIRA_URL"
    jira_email_env: str = "JIRA_EMAIL"
    jira_token_env: str = "JIRA_API_TOKEN"
    jira_issue_type: str = "Task"
    # Webhook secrets: GitHub signs `issues` deliveries with it (HMAC-SHA256); Jira's URL carries it as `?token=`.
    github_webhook_secret_env: str = "GITHUB_WEBHOOK_SECRET"
    jira_webhook_secret_env: str = "JIRA_WEBHOOK_SECRET"
    # How often open tracker issues are checked upstream (closed there -> done here).
    sync_every: str = "5m"
    # Overdue after this long, per severity (`{sev1: 7d}`).
    sla: dict[str, str] = Field(default_factory=dict)

    @field_validator("default_tracker")
    @classmethod
    def _tracker(cls, value: str | None) -> str | None:
        if value is not None and not TRACKER.match(value):
            raise ValueError(f"{value!r} is not a tracker: use `github:owner/repo` or `jira:PROJECTKEY`")
        return value

    @field_validator("sync_every")
    @classmethod
    def _every(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("sla")
    @classmethod
    def _sla(cls, value: dict[str, str]) -> dict[str, str]:
        for duration in value.values():
            parse_duration(duration)
        return value

    @property
    def sync_seconds(self) -> float:
        return parse_duration(self.sync_every).total_seconds()


@dataclass(frozen=True)
class Tracker:
    """Where an issue goes: `kind` is "github" or "jira"; `project` is `owner/repo` or a Jira project key."""

    kind: str
    project: str

    @classmethod
    def parse(cls, value: str) -> "Tracker":
        kind, _, project = value.partition(":")
        return cls(kind, project)

    @property
    def label(self) -> str:
        return "GitHub" if self.kind == "github" else "Jira"


def choose_tracker(service_trackers: list[str | None], default: str | None) -> Tracker | None:
    """The first tracker among the incident's services, else the configured default, else None."""
    for value in [*service_trackers, default]:
        if value:
            return Tracker.parse(value)
    return None


def issue_title(incident_label: str, text: str) -> str:
    """GitHub caps titles at 256 characters and Jira summaries at 255: keep the incident label, shorten the text."""
    title = f"[{incident_label}] {text.strip()}"
    return title if len(title) <= 250 else title[:249] + "…"


def age_text(created_at: datetime, now: datetime) -> str:
    """`3d 4h` style age of a follow-up (whole minutes)."""
    return format_duration(timedelta(minutes=max(0, int((now - created_at).total_seconds() // 60))))


def update_overdue(last_update: datetime, last_nudge: datetime | None, threshold: timedelta, now: datetime) -> bool:
    """A nudge is due when no update came for `threshold`, and at most once per `threshold` after that."""
    since = max(last_update, last_nudge) if last_nudge else last_update
    return now - since >= threshold


def sla_for(sla: dict[str, str], severity: str) -> timedelta | None:
    """The follow-up SLA of a severity (`followups.sla`), None when it has none."""
    return parse_duration(sla[severity]) if severity in sla else None


def followup_overdue(created_at: datetime, last_reminder: datetime | None, sla: timedelta | None,
                     now: datetime) -> bool:
    """Overdue once open longer than its SLA; reminded again at most once per SLA period."""
    if sla is None or now - created_at < sla:
        return False
    return last_reminder is None or now - last_reminder >= sla


def cross_check(config) -> list[str]:
    """Problems spanning sections, one `key.path: message` line each."""
    severities = set(config.incidents.severity_names)
    problems = [f"followups.sla.{name}: unknown severity (use one of {', '.join(config.incidents.severity_names)})"
                for name in config.followups.sla if name not in severities]
    problems += [f"incidents.update_reminder.{name}: unknown severity" for name in config.incidents.update_reminder
                 if name not in severities]
    for name, value in config.incidents.update_reminder.items():
        try:
            parse_duration(value)
        except ValueError as exc:
            problems.append(f"incidents.update_reminder.{name}: {exc}")
    return problems


def secret_env_names(config) -> list[str]:
    f = config.followups
    return [f.github_token_env, f.jira_token_env, f.github_webhook_secret_env, f.jira_webhook_secret_env]


def adf_description(text: str, incident_label: str, incident_url: str, owner: str | None) -> dict:
    """The Jira issue description as an Atlassian Document Format document (REST v3 refuses plain strings)."""
    link = {"type": "text", "text": incident_label, "marks": [{"type": "link", "attrs": {"href": incident_url}}]}
    paragraphs = [[{"type": "text", "text": text}], [{"type": "text", "text": "Follow-up of incident "}, link]]
    if owner:
        paragraphs.append([{"type": "text", "text": f"Owner: {owner}"}])
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": p} for p in paragraphs]}


def markdown_description(text: str, incident_label: str, incident_url: str, owner: str | None) -> str:
    """The GitHub issue body (Markdown)."""
    lines = [text, "", f"Follow-up of incident [{incident_label}]({incident_url})."]
    if owner:
        lines.append(f"Owner: {owner}")
    return "\n".join(lines)
