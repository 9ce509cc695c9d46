"""Incident record (database) -> `PostmortemFacts`.

Everything here is read from the tables the incident flows write: times from `Incident`, the timeline from
`TimelineEvent` (with Slack permalinks where the event came from a message), responders from `IncidentRole` (and
the reporter), action items from `FollowUp`, start time and services from the incident's `AlertRecord`s, and
response metrics computed from the recorded milestones. Nothing comes from a language model.

Slack user ids are shown as display names, resolved best-effort with `users.info` (cached per draft); when Slack
cannot be asked (no token, an error), the id itself is used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from bot.context import AppContext
from bot.core.durations import format_duration
from bot.core.mrkdwn import to_plain_text
from bot.incidents import store as incident_store
from bot.incidents.domain import ROLES, compute_metrics, first_link
from bot.postmortems.domain.facts import FOLLOW_UP_TYPES, FollowUp, PostmortemFacts, TimelineEntry, as_utc
from storage.models import AlertRecord, Incident, TimelineEvent
from storage.models import FollowUp as FollowUpRow
from storage.tables_followups import FollowUpIssue

log = logging.getLogger(__name__)

SERVICE_LABELS = ("service", "app", "application", "job")


class NameResolver:
    """Slack user id -> display name, via `users.info`, cached; the id itself when Slack cannot say."""

    def __init__(self, slack: Any | None):
        self.slack = slack
        self.cache: dict[str, str] = {}

    def __call__(self, user_id: str | None) -> str | None:
        if not user_id:
            return None
        if user_id not in self.cache:
            self.cache[user_id] = self._lookup(user_id)
        return self.cache[user_id]

    def _lookup(self, user_id: str) -> str:
        if self.slack is None:
            return user_id
        try:
            user = self.slack.users_info(user=user_id).get("user") or {}
        except Exception as exc:  # noqa: BLE001 - names are a nicety; the id is a correct fallback
            log.info("users.info %s failed: %s", user_id, exc)
            return user_id
        profile = user.get("profile") or {}
        for name in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"), user.get("name")):
            if name and str(name).strip():
                return " ".join(str(name).split())
        return user_id


def slack_available(ctx: AppContext) -> bool:
    """Whether Slack can be called at all (the CLI may run without a bot token)."""
    return ctx.slack is not None and bool(getattr(ctx.settings, "slack_bot_token", None))


def names_for(ctx: AppContext) -> NameResolver:
    return NameResolver(ctx.slack if slack_available(ctx) else None)


def plain_text(text: str | None, names: Callable[[str], str | None]) -> str:
    """Slack mrkdwn -> plain text for the document (`bot.core.mrkdwn`): mentions become `@Name`, links `label (url)`."""
    return to_plain_text(text, names)


def _alerts(session: Session, incident: Incident) -> list[AlertRecord]:
    return list(session.exec(select(AlertRecord).where(AlertRecord.incident_id == incident.id)
                             .order_by(col(AlertRecord.received_at), col(AlertRecord.id))))


def _services(alerts: list[AlertRecord]) -> list[str]:
    found: list[str] = []
    for alert in alerts:
        labels = alert.labels or {}
        for key in SERVICE_LABELS:
            value = labels.get(key)
            if isinstance(value, str) and value.strip() and value.strip() not in found:
                found.append(value.strip())
                break
    return found


def _follow_up_type(kind: str | None) -> str | None:
    normalised = (kind or "").strip().lower()
    return normalised if normalised in FOLLOW_UP_TYPES else None


@dataclass
class IncidentRows:
    """What the document is built from, read in one short session (Slack is asked for names after it closes: on
    SQLite every session holds the write lock)."""

    incident: Incident
    events: list[TimelineEvent]
    roles: dict[str, str]
    items: list[FollowUpRow]
    alerts: list[AlertRecord]
    # Follow-up id -> its tracker issue URL (bot.followups), the action item's link when there is one.
    issue_links: dict[int, str] = field(default_factory=dict)


def _issue_links(session: Session, items: list[FollowUpRow]) -> dict[int, str]:
    ids = [item.id for item in items]
    if not ids:
        return {}
    rows = session.exec(select(FollowUpIssue).where(col(FollowUpIssue.follow_up_id).in_(ids)))
    return {row.follow_up_id: row.url for row in rows}


def read_rows(session: Session, incident: Incident) -> IncidentRows:
    items = incident_store.followups(session, incident)
    return IncidentRows(incident=incident, events=incident_store.timeline(session, incident), roles=incident_store.roles(session, incident),
                        items=items, alerts=_alerts(session, incident), issue_links=_issue_links(session, items))


def facts_for_incident(session: Session, incident: Incident, *, prefix: str,
                       names: Callable[[str | None], str | None]) -> PostmortemFacts:
    """The postmortem facts for `incident`, read inside `session`."""
    return build_facts(read_rows(session, incident), prefix=prefix, names=names)


def build_facts(rows: IncidentRows, *, prefix: str, names: Callable[[str | None], str | None]) -> PostmortemFacts:
    incident, events, roles, items, alerts = rows.incident, rows.events, rows.roles, rows.items, rows.alerts
    declared = as_utc(incident.created_at)
    alert_starts = [as_utc(a.starts_at) for a in alerts if a.starts_at is not None]
    alert_receipts = [as_utc(a.received_at) for a in alerts if a.received_at is not None]
    started = min([declared, *alert_starts])  # the first alert may predate the declaration
    detected = min([declared, *alert_receipts])

    responders: dict[str, list[str]] = {}
    for role in [*ROLES, *sorted(r for r in roles if r not in ROLES)]:
        if role in roles:
            responders[role] = [names(roles[role]) or roles[role]]
    if incident.reporter_id:
        responders["reporter"] = [names(incident.reporter_id) or incident.reporter_id]

    timeline: list[TimelineEntry] = []
    for alert in alerts:
        if alert.starts_at is not None and as_utc(alert.starts_at) < declared:
            timeline.append(TimelineEntry(at=as_utc(alert.starts_at), text=f"Alert started firing: {alert.name or alert.fingerprint}",
                                          author=None, permalink=None, kind="alert"))
    for event in events:
        timeline.append(TimelineEntry(at=as_utc(event.at), text=plain_text(event.text or "", names),
                                      author=names(event.actor_id), permalink=event.permalink or None, kind=event.kind))

    follow_ups = [FollowUp(text=plain_text(item.text, names), owner=names(item.owner_id), type=_follow_up_type(item.kind),
                           link=rows.issue_links.get(item.id) or first_link(item.text), done=bool(item.done))
                  for item in items]

    m = compute_metrics(declared, as_utc(incident.acknowledged_at), as_utc(incident.mitigated_at),
                        as_utc(incident.resolved_at))
    metrics: dict[str, Any] = {}
    for label, seconds in (("Time to acknowledge", m.time_to_acknowledge), ("Time to mitigate", m.time_to_mitigate),
                           ("Time to resolve", m.time_to_resolve)):
        if seconds is not None:
            metrics[f"{label} (from declaration)"] = format_duration(seconds)

    summary_parts = [p.strip() for p in (incident.description, incident.resolution_summary) if p and p.strip()]
    return PostmortemFacts(
        number=incident.number,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        channel_prefix=prefix,
        started_at=started,
        detected_at=detected,
        mitigated_at=as_utc(incident.mitigated_at),
        resolved_at=as_utc(incident.resolved_at),
        services=_services(alerts),
        responders=responders,
        timeline=timeline,
        follow_ups=follow_ups,
        metrics=metrics,
        summary=plain_text("\n\n".join(summary_parts), names) if summary_parts else None,
    )


def load_incident_facts(ctx: AppContext, incident_id: int, names: NameResolver | None = None) -> PostmortemFacts:
    """Facts for the incident with primary key `incident_id`; LookupError when there is none."""
    with ctx.session() as s:
        incident = incident_store.get(s, incident_id)
        if incident is None:
            raise LookupError(f"no incident with id {incident_id}")
        rows = read_rows(s, incident)
    return build_facts(rows, prefix=ctx.prefix, names=names or names_for(ctx))


def load_facts_by_number(ctx: AppContext, number: int) -> PostmortemFacts:
    """Facts for incident `number` (what `firewatch postmortem render NUMBER` asks for); LookupError when unknown."""
    with ctx.session() as s:
        incident = incident_store.get_by_number(s, number)
        if incident is None:
            raise LookupError(f"no incident number {number} in the database")
        rows = read_rows(s, incident)
    return build_facts(rows, prefix=ctx.prefix, names=names_for(ctx))


def make_loader(ctx: AppContext) -> Callable[[int], PostmortemFacts]:
    """A `bot.postmortems.set_facts_loader` loader reading this context's database."""

    def loader(number: int) -> PostmortemFacts:
        return load_facts_by_number(ctx, number)

    return loader
