"""Contact methods, notification attempts, heartbeats (bot.contacts).

Imported by `storage.models`, so the tables are on `SQLModel.metadata` wherever the models are."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class ContactMethodRecord(SQLModel, table=True):
    """A contact method a person added in Slack (`/oncall contact add`); YAML methods are not copied here."""

    __tablename__ = "contact_methods"
    __table_args__ = (UniqueConstraint("user_id", "kind", "address", name="uq_contact_methods_user_kind_address"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=16)
    address: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class NotificationAttempt(SQLModel, table=True):
    """One try at reaching a person by one method, for a page (or a `/oncall contact test`, page_id None)."""

    __tablename__ = "notification_attempts"

    id: Optional[int] = Field(default=None, primary_key=True)
    page_id: Optional[int] = Field(default=None, foreign_key="pages.id", index=True)
    user_id: str = Field(max_length=32, index=True)
    # The escalation pass that reached the person: a policy that repeats wakes them again on the next pass.
    pass_number: int = Field(default=1)
    step_index: int = Field(default=0)
    method: str = Field(max_length=16)
    # Masked (last digits of a number, domain of an email): attempts are shown in Slack.
    address: str = Field(default="", max_length=200)
    result: str = Field(max_length=16)
    detail: str = Field(default="", max_length=500)
    # Twilio's Call/Message SID, so a key press on a call can be matched to the attempt that placed it.
    external_id: Optional[str] = Field(default=None, max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class HeartbeatRecord(SQLModel, table=True):
    """Last beat of a configured heartbeat, and the page opened when it went missing (until it comes back)."""

    __tablename__ = "heartbeats"

    name: str = Field(primary_key=True, max_length=64)
    last_beat_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    missed_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    missed_page_id: Optional[int] = Field(default=None)
