"""Coverage-check tables (filled by the coverage feature; migration 0012).

Imported by `storage.models`, so the tables are on `SQLModel.metadata` wherever the models are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class CoverageReport(SQLModel, table=True):
    """The coverage problems last posted for one rotation (or `policy:<name>`): a repeat of the same set is not
    posted again. `fingerprint` is a hash of the problem lines; an empty set is stored too (all clear)."""

    __tablename__ = "coverage_reports"

    scope: str = Field(primary_key=True, max_length=120)
    fingerprint: str = Field(max_length=64)
    problem_count: int = Field(default=0)
    posted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
