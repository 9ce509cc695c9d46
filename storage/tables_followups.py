"""Follow-up tracker links and nudges (bot.followups).

Imported by `storage.models`, so the tables are on `SQLModel.metadata` wherever the models are."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class FollowUpIssue(SQLModel, table=True):
    """The tracker issue (GitHub or Jira) a follow-up became; `state` mirrors upstream ("open"/"closed")."""

    __tablename__ = "follow_up_issues"

    id: Optional[int] = Field(default=None, primary_key=True)
    follow_up_id: int = Field(foreign_key="follow_ups.id", unique=True)
    tracker: str = Field(max_length=16)
    project: str = Field(max_length=200)
    key: str = Field(max_length=64)
    url: str = Field(max_length=500)
    state: str = Field(default="open", max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    synced_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class UpdateNudge(SQLModel, table=True):
    """When an incident's channel was last reminded to post an update (one row per incident)."""

    __tablename__ = "update_nudges"

    incident_id: int = Field(foreign_key="incidents.id", primary_key=True)
    nudged_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class FollowUpReminder(SQLModel, table=True):
    """When an overdue follow-up's owner was last reminded (one row per follow-up: reminded once per SLA period)."""

    __tablename__ = "follow_up_reminders"

    follow_up_id: int = Field(foreign_key="follow_ups.id", primary_key=True)
    reminded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WebhookDelivery(SQLModel, table=True):
    """A tracker webhook delivery already applied (GitHub `X-GitHub-Delivery`, Jira `timestamp`+issue+event):
    redeliveries of the same one change nothing."""

    __tablename__ = "follow_up_webhook_deliveries"

    delivery_id: str = Field(primary_key=True, max_length=200)
    source: str = Field(max_length=16)
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class IncidentBookmark(SQLModel, table=True):
    """A link bookmarked in an incident channel (`kind`: runbook, dashboard, bridge, postmortem), once each."""

    __tablename__ = "incident_bookmarks"

    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    kind: str = Field(max_length=32)
    link: str = Field(max_length=500)
    bookmark_id: Optional[str] = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
