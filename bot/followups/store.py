"""All of bot.followups' SQL: tracker issues of follow-ups, their upstream state, update nudges."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.incidents import store as incidents
from storage.models import AlertRecord, FollowUp, Incident, PostmortemRecord, TimelineEvent
from storage.tables_followups import (FollowUpIssue, FollowUpReminder, IncidentBookmark, UpdateNudge,
                                     WebhookDelivery)
from storage.types import utcnow

SERVICE_LABELS = ("service", "app", "application", "job")


def alert_services(session: Session, incident: Incident) -> list[str]:
    """Service names the incident's alerts carry, first label found per alert, in arrival order."""
    found: list[str] = []
    for alert in session.exec(select(AlertRecord).where(AlertRecord.incident_id == incident.id)
                              .order_by(col(AlertRecord.id))):
        labels = alert.labels or {}
        value = next((labels[k] for k in SERVICE_LABELS if isinstance(labels.get(k), str) and labels[k].strip()), None)
        if value and value.strip() not in found:
            found.append(value.strip())
    return found


def record_issue(session: Session, item_id: int, *, tracker: str, project: str, key: str, url: str,
                 actor: str | None) -> FollowUpIssue:
    item = session.get(FollowUp, item_id)
    issue = FollowUpIssue(follow_up_id=item.id, tracker=tracker, project=project, key=key, url=url)
    session.add(issue)
    session.flush()
    incident = session.get(Incident, item.incident_id)
    incidents.add_timeline(session, incident, "followup_issue", f"Follow-up #{item.id} is {url}", actor=actor)
    incidents.audit(session, actor=actor, entity="follow_up", entity_id=item.id, action="link_issue",
                    after={"tracker": tracker, "project": project, "key": key, "url": url})
    return issue


def open_followups(session: Session, incident: Incident) -> list[tuple[FollowUp, FollowUpIssue | None]]:
    rows = session.exec(select(FollowUp, FollowUpIssue).join(FollowUpIssue, isouter=True)
                        .where(FollowUp.incident_id == incident.id, FollowUp.done == False)  # noqa: E712
                        .order_by(col(FollowUp.id)))
    return list(rows)


def issues_to_sync(session: Session) -> list[FollowUpIssue]:
    return list(session.exec(select(FollowUpIssue).where(FollowUpIssue.state == "open").order_by(col(FollowUpIssue.id))))


def last_update_at(session: Session, incident: Incident) -> datetime:
    """When the incident last had an update (or was declared)."""
    event = incidents.latest_event(session, incident, "update")
    return event.at if event is not None else incident.created_at


def last_nudge_at(session: Session, incident_id: int) -> datetime | None:
    row = session.get(UpdateNudge, incident_id)
    return row.nudged_at if row else None


def record_nudge(session: Session, incident_id: int, at: datetime) -> None:
    row = session.get(UpdateNudge, incident_id) or UpdateNudge(incident_id=incident_id, nudged_at=at)
    row.nudged_at = at
    session.add(row)


def recent_events(session: Session, incident: Incident, kinds: tuple[str, ...], limit: int) -> list[TimelineEvent]:
    rows = session.exec(select(TimelineEvent).where(TimelineEvent.incident_id == incident.id,
                                                    col(TimelineEvent.kind).in_(kinds))
                        .order_by(col(TimelineEvent.at).desc(), col(TimelineEvent.id).desc()).limit(limit))
    return list(reversed(list(rows)))


def open_followups_everywhere(session: Session) -> list[tuple[FollowUp, Incident, FollowUpIssue | None, datetime | None]]:
    """Every open follow-up with its incident, tracker issue and last overdue reminder, oldest first."""
    rows = session.exec(select(FollowUp, Incident, FollowUpIssue, FollowUpReminder)
                        .join(Incident, Incident.id == FollowUp.incident_id)
                        .join(FollowUpIssue, isouter=True)
                        .join(FollowUpReminder, FollowUpReminder.follow_up_id == FollowUp.id, isouter=True)
                        .where(FollowUp.done == False)  # noqa: E712
                        .order_by(col(FollowUp.created_at), col(FollowUp.id)))
    return [(item, inc, issue, reminder.reminded_at if reminder else None) for item, inc, issue, reminder in rows]


def record_reminder(session: Session, follow_up_id: int, at: datetime) -> None:
    row = session.get(FollowUpReminder, follow_up_id) or FollowUpReminder(follow_up_id=follow_up_id, reminded_at=at)
    row.reminded_at = at
    session.add(row)


def issue_by_key(session: Session, tracker: str, project: str, key: str) -> FollowUpIssue | None:
    """The follow-up issue a webhook names (GitHub repos compare case-insensitively, as GitHub does)."""
    rows = session.exec(select(FollowUpIssue).where(FollowUpIssue.tracker == tracker, FollowUpIssue.key == key))
    return next((i for i in rows if i.project.lower() == project.lower()), None)


def first_delivery(session: Session, delivery_id: str, source: str) -> bool:
    """Record a webhook delivery; False when it was already applied (a redelivery)."""
    if session.get(WebhookDelivery, delivery_id) is not None:
        return False
    session.add(WebhookDelivery(delivery_id=delivery_id, source=source))
    session.flush()
    return True


def mark_upstream(session: Session, issue_id: int, *, closed: bool, via: str) -> FollowUp | None:
    """Apply an upstream close/reopen to the follow-up (timeline + audit). Returns it when its state changed."""
    issue = session.get(FollowUpIssue, issue_id)
    issue.synced_at = utcnow()
    session.add(issue)
    state = "closed" if closed else "open"
    if issue.state == state:
        return None
    issue.state = state
    item = session.get(FollowUp, issue.follow_up_id)
    before = item.done
    item.done = closed
    session.add(item)
    incident = session.get(Incident, item.incident_id)
    kind, verb = ("followup_done", "closed") if closed else ("followup_reopened", "reopened")
    incidents.add_timeline(session, incident, kind, f"Follow-up #{item.id} {verb} upstream ({issue.url}, {via})",
                           actor=None)
    incidents.audit(session, actor=None, entity="follow_up", entity_id=item.id, action="done" if closed else "reopen",
                    before={"done": before}, after={"done": closed, "source": issue.url, "via": via})
    return item


def bookmarked(session: Session, incident_id: int) -> set[tuple[str, str]]:
    rows = session.exec(select(IncidentBookmark).where(IncidentBookmark.incident_id == incident_id))
    return {(b.kind, b.link) for b in rows}


def record_bookmark(session: Session, incident_id: int, kind: str, link: str, bookmark_id: str | None) -> None:
    session.add(IncidentBookmark(incident_id=incident_id, kind=kind, link=link, bookmark_id=bookmark_id))


def published_postmortems_without_bookmark(session: Session) -> list[tuple[Incident, PostmortemRecord]]:
    """Published postmortems whose incident channel has no postmortem bookmark yet."""
    done = select(IncidentBookmark.incident_id).where(IncidentBookmark.kind == "postmortem")
    rows = session.exec(select(Incident, PostmortemRecord).join(PostmortemRecord,
                                                                PostmortemRecord.incident_id == Incident.id)
                        .where(col(PostmortemRecord.published_at).is_not(None), col(Incident.channel_id).is_not(None),
                               col(Incident.id).not_in(done)))
    return list(rows)
