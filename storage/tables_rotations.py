"""Rotation tables added after the first release: cover requests and their offers (bot.rotations).

Imported by `storage.models`, so the tables are on `SQLModel.metadata` wherever the models are."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class IcalEventRevisionRecord(SQLModel, table=True):
    """What the iCal feed last served for one event UID, so a changed shift gets a higher SEQUENCE."""

    __tablename__ = "ical_event_revisions"

    uid: str = Field(primary_key=True, max_length=200)
    rotation: str = Field(max_length=120, index=True)
    fingerprint: str = Field(max_length=200)
    sequence: int = Field(default=0)
    modified_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class RotationCoverOffer(SQLModel, table=True):
    """`/oncall cover`: a member's shifts offered to eligible members in burden order; the first to accept
    takes them (claimed with one conditional UPDATE on `status`)."""

    __tablename__ = "rotation_cover_offers"

    id: Optional[int] = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=120, index=True)
    requester_id: str = Field(max_length=32, index=True)
    reason: str = Field(default="", max_length=300)
    range_start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    range_end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    pieces: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    candidates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    posts: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", max_length=16)  # open, taken, failed
    taken_by: Optional[str] = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    decided_at: Optional[datetime] = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
