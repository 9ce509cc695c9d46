"""Telemetry evidence and suggestion feedback (bot.telemetry).

Imported by `storage.models`, so the tables are on `SQLModel.metadata` wherever the models are."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class HypothesisFeedback(SQLModel, table=True):
    """Accept/Dismiss on one root-cause hypothesis; `kind` is what it rests on ("rca:metric", "rca:change", …)."""

    __tablename__ = "assist_feedback"
    __table_args__ = (UniqueConstraint("suggestion_id", "rank", name="uq_assist_feedback_hypothesis"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    suggestion_id: int = Field(foreign_key="suggestions.id", index=True)
    incident_id: int = Field(foreign_key="incidents.id", index=True)
    rank: int
    kind: str = Field(max_length=32)
    decision: str = Field(max_length=16)  # accepted | dismissed
    decided_by: str = Field(max_length=32)
    decided_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
