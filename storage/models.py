"""SQLModel tables. Every datetime column is aware UTC (`UTCDateTime`); Slack objects are stored by id, never name."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


def _ts(nullable: bool = True, index: bool = False):
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Counter(SQLModel, table=True):
    """Named monotonically increasing counters (incident numbers). Incremented with one atomic UPDATE … RETURNING."""

    __tablename__ = "counters"
    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(default=0)


class Incident(SQLModel, table=True):
    __tablename__ = "incidents"

    id: Optional[int] = Field(default=None, primary_key=True)
    number: int = Field(unique=True, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="")
    severity: str = Field(max_length=16)
    status: str = Field(default="investigating", max_length=16, index=True)
    private: bool = Field(default=False)
    source: str = Field(default="slack", max_length=32)
    reporter_id: Optional[str] = Field(default=None, max_length=32)
    commander_id: Optional[str] = Field(default=None, max_length=32)
    # Slack resources, filled in step by step; a missing one is what `/incident repair` creates.
    channel_id: Optional[str] = Field(default=None, max_length=32, index=True)
    channel_name: Optional[str] = Field(default=None, max_length=80)
    reporter_invited: bool = Field(default=False)
    topic_set: bool = Field(default=False)
    summary_ts: Optional[str] = Field(default=None, max_length=32)
    summary_pinned: bool = Field(default=False)
    announcement_channel: Optional[str] = Field(default=None, max_length=32)
    announcement_ts: Optional[str] = Field(default=None, max_length=32)
    setup_error: Optional[str] = Field(default=None)
    resolution_summary: Optional[str] = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    acknowledged_at: Optional[datetime] = _ts()
    mitigated_at: Optional[datetime] = _ts()
    resolved_at: Optional[datetime] = _ts()
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class IncidentRole(SQLModel, table=True):
    """Who holds a role (commander, comms, scribe) in an incident; one holder per role."""

    __tablename__ = "incident_roles"
    __table_args__ = (UniqueConstraint("incident_id", "role", name="uq_incident_role"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    role: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    assigned_by: Optional[str] = Field(default=None, max_length=32)
    assigned_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Participant(SQLModel, table=True):
    """Everyone who took part in an incident (reporter, invited on-call, role holders)."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("incident_id", "user_id", name="uq_participant"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    user_id: str = Field(max_length=32)
    reason: str = Field(default="", max_length=64)
    joined_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class TimelineEvent(SQLModel, table=True):
    """One fact in an incident's timeline. `source_ts` (a Slack message ts) is unique per incident, so a message
    pinned twice, or an event delivered three times, lands once."""

    __tablename__ = "timeline_events"
    __table_args__ = (
        UniqueConstraint("incident_id", "source_ts", name="uq_timeline_source"),
        Index("ix_timeline_incident_at", "incident_id", "at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id")
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    kind: str = Field(max_length=32)
    text: str = Field(default="")
    actor_id: Optional[str] = Field(default=None, max_length=32)
    source_channel: Optional[str] = Field(default=None, max_length=32)
    source_ts: Optional[str] = Field(default=None, max_length=32)
    permalink: Optional[str] = Field(default=None, max_length=500)


class FollowUp(SQLModel, table=True):
    __tablename__ = "follow_ups"

    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    text: str
    owner_id: Optional[str] = Field(default=None, max_length=32)
    created_by: Optional[str] = Field(default=None, max_length=32)
    kind: str = Field(default="prevent", max_length=16)
    done: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AuditLog(SQLModel, table=True):
    """Every state change, who made it and what it was before and after."""

    __tablename__ = "audit_log"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor_id: Optional[str] = Field(default=None, max_length=32)
    entity: str = Field(max_length=32)
    entity_id: Optional[int] = Field(default=None, index=True)
    action: str = Field(max_length=64)
    before: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    after: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    correlation_id: Optional[str] = Field(default=None, max_length=64)


class ProcessedEvent(SQLModel, table=True):
    """Slack Events API deliveries already handled (retries repeat the `event_id`)."""

    __tablename__ = "processed_events"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
