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


# --- Paging and alerts ------------------------------------------------------------------------------------------


class PageRecord(SQLModel, table=True):
    """A page and its escalation state (the pure `bot.paging.domain.escalation.Page`, stored)."""

    __tablename__ = "pages"

    id: Optional[int] = Field(default=None, primary_key=True)
    policy: str = Field(max_length=120)
    state: str = Field(default="triggered", max_length=16, index=True)
    pass_number: int = Field(default=1)
    step_index: int = Field(default=0)
    exhausted: bool = Field(default=False)
    acknowledged_by: Optional[str] = Field(default=None, max_length=32)
    title: str = Field(default="", max_length=300)
    message: str = Field(default="")
    severity: Optional[str] = Field(default=None, max_length=16)
    requester_id: Optional[str] = Field(default=None, max_length=32)
    source: str = Field(default="slack", max_length=32)
    channel_id: Optional[str] = Field(default=None, max_length=32)
    incident_id: Optional[int] = Field(default=None, foreign_key="incidents.id", index=True)
    alert_key: Optional[str] = Field(default=None, max_length=200, index=True)
    content: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    history: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    pagerduty_status: Optional[str] = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    acknowledged_at: Optional[datetime] = _ts()
    resolved_at: Optional[datetime] = _ts()
    # The database is the source of truth for due steps: the leader's sweep continues a page whose current step is
    # not yet delivered (`step_notified` false, written with the transition) or whose step timed out (`next_step_at`).
    next_step_at: Optional[datetime] = _ts(index=True)
    step_notified: bool = Field(default=True)


class SchedulerLeadership(SQLModel, table=True):
    """One row (id 1): the epoch of the current scheduler leader, incremented on each acquisition (fencing)."""

    __tablename__ = "scheduler_leadership"

    id: Optional[int] = Field(default=None, primary_key=True)
    epoch: int = Field(default=0)
    holder: Optional[str] = Field(default=None, max_length=200)
    acquired_at: Optional[datetime] = _ts()


class PageNotification(SQLModel, table=True):
    """One DM sent for a page (who, where, which step), so buttons, resolution notes and handoffs can find it."""

    __tablename__ = "page_notifications"

    id: Optional[int] = Field(default=None, primary_key=True)
    page_id: int = Field(foreign_key="pages.id", index=True)
    user_id: str = Field(max_length=32, index=True)
    rotation: Optional[str] = Field(default=None, max_length=120)
    channel_id: Optional[str] = Field(default=None, max_length=32)
    message_ts: Optional[str] = Field(default=None, max_length=32)
    pass_number: int = Field(default=1)
    step_index: int = Field(default=0)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    error: Optional[str] = Field(default=None, max_length=200)


class AlertRecord(SQLModel, table=True):
    """Every alert received, routed or not. `dedup_key` (fingerprint, status, start) makes re-sends no-ops."""

    __tablename__ = "alerts"

    id: Optional[int] = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=200, unique=True)
    fingerprint: str = Field(max_length=128, index=True)
    status: str = Field(max_length=16)
    source: str = Field(max_length=32)
    name: str = Field(default="", max_length=300)
    group_identity: Optional[str] = Field(default=None, max_length=500)
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    annotations: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    route_policy: Optional[str] = Field(default=None, max_length=120)
    page_id: Optional[int] = Field(default=None, foreign_key="pages.id")
    incident_id: Optional[int] = Field(default=None, foreign_key="incidents.id")
    starts_at: Optional[datetime] = _ts()
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Set once paging/resolution for this alert is done; a start-up sweep finishes any left unprocessed.
    processed_at: Optional[datetime] = _ts()
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AlertGroupIncident(SQLModel, table=True):
    """One incident per alert group: later alerts of the group join it."""

    __tablename__ = "alert_group_incidents"

    group_identity: str = Field(primary_key=True, max_length=500)
    incident_id: int = Field(foreign_key="incidents.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class IncidentRecurrence(SQLModel, table=True):
    """An alert group that fired again after its incident was resolved opened `incident_id`: it "recurred" from
    `previous_incident_id` (one row per recurrence incident)."""

    __tablename__ = "incident_recurrences"

    incident_id: int = Field(primary_key=True, foreign_key="incidents.id")
    previous_incident_id: int = Field(foreign_key="incidents.id", index=True)
    group_identity: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


# --- Rotations ---------------------------------------------------------------------------------------------------


class PublishedShift(SQLModel, table=True):
    """A shift inside the published horizon: frozen, it moves only by an explicit swap or override."""

    __tablename__ = "published_shifts"
    __table_args__ = (UniqueConstraint("rotation", "role", "start", name="uq_published_shift"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=120, index=True)
    role: str = Field(default="primary", max_length=16)
    start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    user_id: str = Field(max_length=32)
    weight: float = Field(default=0.0)
    origin: str = Field(default="plan", max_length=16)  # plan | swap | override


class RotationOverride(SQLModel, table=True):
    __tablename__ = "rotation_overrides"

    id: Optional[int] = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=120, index=True)
    user_id: str = Field(max_length=32)
    role: str = Field(default="primary", max_length=16)
    start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_by: Optional[str] = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class RotationSwap(SQLModel, table=True):
    __tablename__ = "rotation_swaps"

    id: Optional[int] = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=120, index=True)
    requester_id: str = Field(max_length=32)
    counterpart_id: str = Field(max_length=32)
    shift_start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    counterpart_shift_start: Optional[datetime] = _ts()
    role: str = Field(default="primary", max_length=16)
    status: str = Field(default="pending", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_at: Optional[datetime] = _ts()


class Unavailability(SQLModel, table=True):
    """PTO entered from Slack (`/oncall away`); config-file unavailability lives in firewatch.yaml."""

    __tablename__ = "unavailability"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=32, index=True)
    start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reason: str = Field(default="PTO", max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class OncallNote(SQLModel, table=True):
    __tablename__ = "oncall_notes"

    id: Optional[int] = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=120, index=True)
    author_id: str = Field(max_length=32)
    text: str
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    delivered_at: Optional[datetime] = _ts()


class HandoffRecord(SQLModel, table=True):
    """A handoff message sent at a shift boundary; unique, so a re-run job does not send it twice."""

    __tablename__ = "handoffs"
    __table_args__ = (UniqueConstraint("rotation", "boundary", name="uq_handoff"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=120)
    boundary: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    outgoing_id: Optional[str] = Field(default=None, max_length=32)
    incoming_id: Optional[str] = Field(default=None, max_length=32)
    sent_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class BurdenRecord(SQLModel, table=True):
    """Extra burden in the fairness ledger (pages received)."""

    __tablename__ = "burden_events"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=32, index=True)
    rotation: Optional[str] = Field(default=None, max_length=120)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    weight: float
    kind: str = Field(default="page", max_length=16)
    page_id: Optional[int] = Field(default=None, foreign_key="pages.id")


class CalendarToken(SQLModel, table=True):
    __tablename__ = "calendar_tokens"

    token: str = Field(primary_key=True, max_length=64)
    rotation: str = Field(max_length=120)
    user_id: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


# --- LLM assistance and postmortems -------------------------------------------------------------------------------


class ChangeEventRecord(SQLModel, table=True):
    """A deploy or config change (`POST /webhooks/changes`), evidence for root-cause suggestions."""

    __tablename__ = "change_events"

    id: Optional[int] = Field(default=None, primary_key=True)
    service: str = Field(max_length=120, index=True)
    version: Optional[str] = Field(default=None, max_length=120)
    author: Optional[str] = Field(default=None, max_length=120)
    description: str = Field(default="")
    url: Optional[str] = Field(default=None, max_length=500)
    timestamp: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class LLMUsageRecord(SQLModel, table=True):
    __tablename__ = "llm_usage"

    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: Optional[int] = Field(default=None, foreign_key="incidents.id", index=True)
    purpose: str = Field(max_length=32)
    model: Optional[str] = Field(default=None, max_length=120)
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class SuggestionRecord(SQLModel, table=True):
    """A triage or root-cause suggestion shown in an incident channel, and what people did with it."""

    __tablename__ = "suggestions"

    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    kind: str = Field(max_length=16)  # triage | rca
    source: str = Field(max_length=16)  # llm | heuristic
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="shown", max_length=16)  # shown | accepted | dismissed
    decided_by: Optional[str] = Field(default=None, max_length=32)
    channel_id: Optional[str] = Field(default=None, max_length=32)
    message_ts: Optional[str] = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_at: Optional[datetime] = _ts()


class PostmortemRecord(SQLModel, table=True):
    """The postmortem draft (kept safe here whatever happens to publishing) and where it was published."""

    __tablename__ = "postmortems"

    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", unique=True)
    markdown: str
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The model-drafted narrative ({"sections": {key: text}, "model", "note", ...}) reused when re-publishing;
    # None when no model drafted one. Regenerated by each `/incident postmortem`.
    narrative: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    path: Optional[str] = Field(default=None, max_length=500)
    branch: Optional[str] = Field(default=None, max_length=200)
    commit_sha: Optional[str] = Field(default=None, max_length=64)
    pr_url: Optional[str] = Field(default=None, max_length=500)
    publish_error: Optional[str] = Field(default=None)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    published_at: Optional[datetime] = _ts()


# Tables of newer features live beside this module; importing them here registers them on SQLModel.metadata.
from storage import tables_contacts, tables_coverage, tables_followups, tables_rotations, tables_telemetry  # noqa: E402,F401,I001
