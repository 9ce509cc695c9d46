"""SQL of the rotations feature's newer tables (iCal event revisions)."""

from __future__ import annotations

from typing import Mapping

from sqlmodel import Session, select

from bot.rotations.domain.ical import EventRevision, communicated
from bot.rotations.domain.models import Shift
from storage.tables_rotations import IcalEventRevisionRecord


def ical_revisions(session: Session, rotation: str) -> dict[str, EventRevision]:
    """Every stored revision of the rotation's feed events, by UID."""
    rows = session.exec(select(IcalEventRevisionRecord).where(IcalEventRevisionRecord.rotation == rotation))
    return {r.uid: EventRevision(r.fingerprint, r.sequence, r.modified_at) for r in rows}


def communicated_plan(session: Session, rotation: str) -> list[Shift]:
    """The tentative (beyond-the-horizon) shifts the iCal feed last showed: the plan re-planning should keep."""
    return communicated(ical_revisions(session, rotation), rotation)


def save_ical_revisions(session: Session, rotation: str, revisions: Mapping[str, EventRevision],
                        known: Mapping[str, EventRevision]) -> None:
    """Write the revisions that are new or changed since `known` (what was read in this transaction)."""
    for uid, revision in revisions.items():
        if known.get(uid) == revision:
            continue
        row = session.get(IcalEventRevisionRecord, uid)
        if row is None:
            row = IcalEventRevisionRecord(uid=uid, rotation=rotation, fingerprint=revision.fingerprint,
                                          sequence=revision.sequence, modified_at=revision.modified)
        else:
            row.fingerprint, row.sequence, row.modified_at = (revision.fingerprint, revision.sequence,
                                                              revision.modified)
        session.add(row)
