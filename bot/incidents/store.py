"""Incident state in the database: every change writes the incident, a timeline event and an audit entry in one
transaction. Callers pass a session from `storage.db.session_scope`; nothing here talks to Slack."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.correlation import current_correlation_id
from bot.incidents.domain import STATUSES, can_transition
from storage.models import (AuditLog, FollowUp, Incident, IncidentRecurrence, IncidentRole, Participant, ProcessedEvent,
                            TimelineEvent)
from storage.types import utcnow


class IncidentError(ValueError):
    """A request that cannot be applied to the incident in its current state (shown to the user)."""


def _snapshot(incident: Incident) -> dict[str, Any]:
    return {"status": incident.status, "severity": incident.severity, "commander_id": incident.commander_id,
            "title": incident.title, "channel_id": incident.channel_id}


def audit(session: Session, *, actor: str | None, entity: str, entity_id: int | None, action: str,
          before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    session.add(AuditLog(actor_id=actor, entity=entity, entity_id=entity_id, action=action, before=before,
                         after=after, correlation_id=current_correlation_id()))


def next_number(session: Session, counter: str = "incident_number") -> int:
    """Allocate the next incident number. One atomic UPDATE … RETURNING: the row lock (PostgreSQL) or the write
    lock (SQLite) makes concurrent declares queue, so no two can read the same value."""
    value = session.execute(
        text("UPDATE counters SET value = value + 1 WHERE name = :name RETURNING value"), {"name": counter}
    ).scalar_one_or_none()
    if value is None:
        raise RuntimeError(f"counter {counter!r} is missing; run `firewatch db upgrade`")
    return int(value)


def declare(session: Session, *, title: str, severity: str, reporter_id: str | None, description: str = "",
            private: bool = False, source: str = "slack", now: datetime | None = None) -> Incident:
    """Create the incident record (before any Slack step, so a channel never exists without a record)."""
    now = now or utcnow()
    number = next_number(session)
    incident = Incident(number=number, title=title.strip(), description=description.strip(), severity=severity,
                        status="investigating", private=private, source=source, reporter_id=reporter_id,
                        created_at=now, updated_at=now)
    session.add(incident)
    session.flush()
    if reporter_id:
        session.add(Participant(incident_id=incident.id, user_id=reporter_id, reason="reporter", joined_at=now))
    add_timeline(session, incident, "declared", f"Incident declared ({severity}): {incident.title}",
                 actor=reporter_id, at=now)
    audit(session, actor=reporter_id, entity="incident", entity_id=incident.id, action="declare",
          after=_snapshot(incident))
    return incident


def get_by_channel(session: Session, channel_id: str | None) -> Incident | None:
    if not channel_id:
        return None
    return session.exec(select(Incident).where(Incident.channel_id == channel_id)).first()


def get_by_number(session: Session, number: int) -> Incident | None:
    return session.exec(select(Incident).where(Incident.number == number)).first()


def get(session: Session, incident_id: int) -> Incident | None:
    return session.get(Incident, incident_id)


def list_open(session: Session) -> list[Incident]:
    return list(session.exec(select(Incident).where(Incident.status != "resolved").order_by(col(Incident.number))))


def incomplete_setup(session: Session) -> list[Incident]:
    """Incidents whose Slack set-up did not finish (a step failed, or the process stopped part-way)."""
    rows = session.exec(select(Incident).where(
        (Incident.channel_id.is_(None)) | (Incident.summary_ts.is_(None)) | (col(Incident.summary_pinned).is_(False))
        | (col(Incident.topic_set).is_(False)) | (col(Incident.reporter_invited).is_(False))
        | (Incident.announcement_ts.is_(None))
    ))
    return list(rows)


def add_timeline(session: Session, incident: Incident, kind: str, text_: str, *, actor: str | None,
                 at: datetime | None = None, source_channel: str | None = None, source_ts: str | None = None,
                 permalink: str | None = None) -> TimelineEvent | None:
    """Add a timeline event; with `source_ts`, a second add of the same Slack message is ignored (returns None)."""
    event = TimelineEvent(incident_id=incident.id, at=at or utcnow(), kind=kind, text=text_, actor_id=actor,
                          source_channel=source_channel, source_ts=source_ts, permalink=permalink)
    if source_ts is None:
        session.add(event)
        session.flush()
        return event
    try:
        with session.begin_nested():
            session.add(event)
        return event
    except IntegrityError:
        return None


def timeline(session: Session, incident: Incident) -> list[TimelineEvent]:
    return list(session.exec(select(TimelineEvent).where(TimelineEvent.incident_id == incident.id)
                             .order_by(col(TimelineEvent.at), col(TimelineEvent.id))))


def _acknowledge(incident: Incident, now: datetime) -> None:
    # The first response by anyone (a commander taking charge, a status change, an acknowledged page) ends the
    # time-to-acknowledge clock.
    if incident.acknowledged_at is None:
        incident.acknowledged_at = now


def set_status(session: Session, incident: Incident, status: str, *, actor: str | None,
               now: datetime | None = None) -> TimelineEvent:
    if status not in STATUSES:
        raise IncidentError(f"unknown status {status!r}")
    if incident.status == status:
        raise IncidentError(f"the incident is already {status}")
    if not can_transition(incident.status, status):
        raise IncidentError("the incident is resolved; declare a new one or ask an admin to reopen it")
    if status == "resolved":
        return resolve(session, incident, summary=None, actor=actor, now=now)
    now = now or utcnow()
    before = _snapshot(incident)
    incident.status = status
    _acknowledge(incident, now)
    if status == "monitoring" and incident.mitigated_at is None:
        incident.mitigated_at = now
    incident.updated_at = now
    session.add(incident)
    event = add_timeline(session, incident, "status", f"Status changed from {before['status']} to {status}",
                         actor=actor, at=now)
    audit(session, actor=actor, entity="incident", entity_id=incident.id, action="status", before=before,
          after=_snapshot(incident))
    return event


def set_severity(session: Session, incident: Incident, severity: str, *, actor: str | None,
                 now: datetime | None = None) -> TimelineEvent:
    if incident.severity == severity:
        raise IncidentError(f"the incident is already {severity}")
    now = now or utcnow()
    before = _snapshot(incident)
    incident.severity = severity
    incident.updated_at = now
    session.add(incident)
    event = add_timeline(session, incident, "severity", f"Severity changed from {before['severity']} to {severity}",
                         actor=actor, at=now)
    audit(session, actor=actor, entity="incident", entity_id=incident.id, action="severity", before=before,
          after=_snapshot(incident))
    return event


def add_participant(session: Session, incident: Incident, user_id: str, reason: str) -> None:
    exists = session.exec(select(Participant).where(Participant.incident_id == incident.id,
                                                    Participant.user_id == user_id)).first()
    if exists is None:
        session.add(Participant(incident_id=incident.id, user_id=user_id, reason=reason))


def is_participant(session: Session, incident: Incident, user_id: str | None) -> bool:
    """Reporter, invitee or role holder of the incident (the people Firewatch put in its channel)."""
    if not user_id:
        return False
    if user_id in (incident.reporter_id, incident.commander_id):
        return True
    return session.exec(select(Participant).where(Participant.incident_id == incident.id,
                                                  Participant.user_id == user_id)).first() is not None


def assign_role(session: Session, incident: Incident, role: str, user_id: str, *, actor: str | None,
                now: datetime | None = None) -> TimelineEvent:
    now = now or utcnow()
    before = _snapshot(incident)
    row = session.exec(select(IncidentRole).where(IncidentRole.incident_id == incident.id,
                                                  IncidentRole.role == role)).first()
    if row is not None and row.user_id == user_id:
        raise IncidentError(f"<@{user_id}> is already {role}")
    previous = row.user_id if row else None
    if row is None:
        row = IncidentRole(incident_id=incident.id, role=role, user_id=user_id, assigned_by=actor, assigned_at=now)
    else:
        row.user_id, row.assigned_by, row.assigned_at = user_id, actor, now
    session.add(row)
    if role == "commander":
        incident.commander_id = user_id
        _acknowledge(incident, now)
    incident.updated_at = now
    session.add(incident)
    add_participant(session, incident, user_id, role)
    text_ = f"<@{user_id}> is now {role}" + (f" (was <@{previous}>)" if previous else "")
    event = add_timeline(session, incident, "role", text_, actor=actor, at=now)
    audit(session, actor=actor, entity="incident", entity_id=incident.id, action=f"role:{role}",
          before={**before, "role_holder": previous}, after={**_snapshot(incident), "role_holder": user_id})
    return event


def roles(session: Session, incident: Incident) -> dict[str, str]:
    rows = session.exec(select(IncidentRole).where(IncidentRole.incident_id == incident.id))
    return {r.role: r.user_id for r in rows}


def add_followup(session: Session, incident: Incident, text_: str, *, owner: str | None, actor: str | None,
                 kind: str = "prevent") -> FollowUp:
    item = FollowUp(incident_id=incident.id, text=text_, owner_id=owner, created_by=actor, kind=kind)
    session.add(item)
    session.flush()
    owner_text = f" (owner <@{owner}>)" if owner else ""
    add_timeline(session, incident, "followup", f"Follow-up: {text_}{owner_text}", actor=actor)
    audit(session, actor=actor, entity="follow_up", entity_id=item.id, action="create",
          after={"incident_id": incident.id, "text": text_, "owner_id": owner, "kind": kind})
    return item


def followups(session: Session, incident: Incident) -> list[FollowUp]:
    return list(session.exec(select(FollowUp).where(FollowUp.incident_id == incident.id).order_by(col(FollowUp.id))))


def resolve(session: Session, incident: Incident, *, summary: str | None, actor: str | None,
            now: datetime | None = None) -> TimelineEvent:
    if incident.status == "resolved":
        raise IncidentError("the incident is already resolved")
    now = now or utcnow()
    before = _snapshot(incident)
    incident.status = "resolved"
    _acknowledge(incident, now)
    if incident.mitigated_at is None:
        incident.mitigated_at = now
    incident.resolved_at = now
    incident.resolution_summary = summary
    incident.updated_at = now
    session.add(incident)
    event = add_timeline(session, incident, "resolved", "Incident resolved" + (f": {summary}" if summary else ""),
                         actor=actor, at=now)
    audit(session, actor=actor, entity="incident", entity_id=incident.id, action="resolve", before=before,
          after=_snapshot(incident))
    return event


def reopen(session: Session, incident: Incident, *, reason: str | None, actor: str | None,
           now: datetime | None = None) -> TimelineEvent:
    """Return a resolved incident to investigating; the resolution time and summary are cleared (the timeline
    keeps them), the time to mitigate stays."""
    if incident.status != "resolved":
        raise IncidentError(f"the incident is {incident.status}, not resolved; nothing to reopen")
    now = now or utcnow()
    before = _snapshot(incident)
    incident.status = "investigating"
    incident.resolved_at = None
    incident.resolution_summary = None
    incident.updated_at = now
    session.add(incident)
    event = add_timeline(session, incident, "reopened", "Incident reopened" + (f": {reason}" if reason else ""),
                         actor=actor, at=now)
    audit(session, actor=actor, entity="incident", entity_id=incident.id, action="reopen", before=before,
          after={**_snapshot(incident), "reason": reason})
    return event


def acknowledge(session: Session, incident: Incident, *, actor: str, now: datetime | None = None) -> TimelineEvent:
    """Record that `actor` is on it (ends the time-to-acknowledge clock if it still runs)."""
    if incident.status == "resolved":
        raise IncidentError("the incident is resolved; `/incident reopen [reason]` first")
    now = now or utcnow()
    before = _snapshot(incident)
    _acknowledge(incident, now)
    incident.updated_at = now
    session.add(incident)
    add_participant(session, incident, actor, "acknowledged")
    event = add_timeline(session, incident, "acknowledged", f"<@{actor}> acknowledged", actor=actor, at=now)
    audit(session, actor=actor, entity="incident", entity_id=incident.id, action="acknowledge", before=before,
          after=_snapshot(incident))
    return event


def link_timeline(session: Session, event_id: int, channel: str, ts: str, permalink: str | None) -> None:
    """Point a timeline event at the Slack message that announced it (for permalinks in the postmortem)."""
    event = session.get(TimelineEvent, event_id)
    if event is not None and event.source_ts is None:
        event.source_channel, event.source_ts, event.permalink = channel, ts, permalink
        session.add(event)


def latest_event(session: Session, incident: Incident, kind: str) -> TimelineEvent | None:
    return session.exec(select(TimelineEvent).where(TimelineEvent.incident_id == incident.id, TimelineEvent.kind == kind)
                        .order_by(col(TimelineEvent.id).desc())).first()


def record_setup(session: Session, incident: Incident, **fields: Any) -> None:
    """Store the result of a Slack set-up step (channel id, message ts, flags)."""
    for key, value in fields.items():
        setattr(incident, key, value)
    incident.updated_at = utcnow()
    session.add(incident)
    audit(session, actor=None, entity="incident", entity_id=incident.id, action="slack_setup",
          after={k: v for k, v in fields.items()})


def claim_event(session: Session, event_id: str) -> bool:
    """True the first time an Events API `event_id` is seen; False for a retry or duplicate delivery."""
    try:
        with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id))
        return True
    except IntegrityError:
        return False


def recurred_from_number(session: Session, incident: Incident) -> int | None:
    """Number of the incident this one recurred from (its alert group fired again), if any."""
    row = session.get(IncidentRecurrence, incident.id)
    previous = session.get(Incident, row.previous_incident_id) if row is not None else None
    return previous.number if previous is not None else None
