"""Rotation tables added after the first release: cover requests and their offers (bot.rotations).

Imported by `storage.models`, so the tables are on `SQLModel.metadata` wherever the models are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class IcalEventRevisionRecord(SQLModel, table=True):
    """What the iCal feed last served for one event UID, so a changed shift gets a higher SEQUENCE."""

    __tablename__ = "ical_event_revisions"

    uid: str = Field(primary_key=True, max_length=200)
    rotation: str = Field(max_length=120, index=True)
    fingerprint: str = Field(max_length=200)
    sequence: int = Field(default=0)
    modified_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
