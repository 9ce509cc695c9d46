"""The importer's SQL: overrides carried over from the vendor's schedule into Firewatch's override table."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.models import RotationOverride

# The audit log and `/oncall` show this as the override's author.
IMPORTED_BY = "import"


def has_override(s: Session, rotation: str, user: str, start: datetime, end: datetime) -> bool:
    """Whether this exact override is already stored (a second import must not double it)."""
    found = s.exec(select(RotationOverride.id).where(
        RotationOverride.rotation == rotation, RotationOverride.user_id == user,
        RotationOverride.start == start, RotationOverride.end == end)).first()
    return found is not None


def add_override(s: Session, rotation: str, user: str, start: datetime, end: datetime) -> None:
    s.add(RotationOverride(rotation=rotation, user_id=user, role="primary", start=start, end=end,
                           created_by=IMPORTED_BY))
