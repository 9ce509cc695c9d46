"""The contacts feature's SQL: Slack-added methods, notification attempts, heartbeat state."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from bot.contacts.domain.rules import Method
from storage.models import Incident, PageRecord
from storage.tables_contacts import ContactMethodRecord, HeartbeatRecord, NotificationAttempt


def added_methods(session: Session, user_id: str) -> list[ContactMethodRecord]:
    return list(session.exec(select(ContactMethodRecord).where(ContactMethodRecord.user_id == user_id)
                             .order_by(col(ContactMethodRecord.id))))


def as_methods(rows: list[ContactMethodRecord]) -> list[Method]:
    return [Method(r.kind, r.address) for r in rows]


def find_method(session: Session, user_id: str, kind: str, address: str) -> ContactMethodRecord | None:
    return session.exec(select(ContactMethodRecord).where(ContactMethodRecord.user_id == user_id,
                                                          ContactMethodRecord.kind == kind,
                                                          ContactMethodRecord.address == address)).first()


def add_method(session: Session, user_id: str, kind: str, address: str) -> ContactMethodRecord:
    row = ContactMethodRecord(user_id=user_id, kind=kind, address=address)
    session.add(row)
    session.flush()
    return row


def page_state(session: Session, page_id: int) -> str | None:
    row = session.get(PageRecord, page_id)
    return row.state if row is not None else None


def page(session: Session, page_id: int) -> PageRecord | None:
    return session.get(PageRecord, page_id)


def incident_private(session: Session, incident_id: int | None) -> bool:
    incident = session.get(Incident, incident_id) if incident_id is not None else None
    return bool(incident is not None and incident.private)


def record_attempt(session: Session, *, page_id: int | None, user_id: str, step_index: int, method: str,
                   address: str, result: str, detail: str, external_id: str | None, at: datetime,
                   pass_number: int = 1) -> None:
    session.add(NotificationAttempt(page_id=page_id, user_id=user_id, step_index=step_index, method=method,
                                    pass_number=pass_number,
                                    address=address[:200], result=result, detail=detail[:500],
                                    external_id=external_id, at=at))


def attempts(session: Session, page_id: int) -> list[NotificationAttempt]:
    return list(session.exec(select(NotificationAttempt).where(NotificationAttempt.page_id == page_id)
                             .order_by(col(NotificationAttempt.id))))


def step_attempted(session: Session, page_id: int, user_id: str, step_index: int, pass_number: int = 1) -> bool:
    """Whether this step already ran (a job re-run after a crash must not ring the phone twice)."""
    return session.exec(select(NotificationAttempt.id).where(NotificationAttempt.page_id == page_id,
                                                             NotificationAttempt.user_id == user_id,
                                                             NotificationAttempt.step_index == step_index,
                                                             NotificationAttempt.pass_number == pass_number)
                        ).first() is not None


def call_attempt(session: Session, page_id: int, user_id: str, call_sid: str) -> NotificationAttempt | None:
    """The voice attempt that placed call `call_sid` for this page and person."""
    return session.exec(select(NotificationAttempt).where(NotificationAttempt.page_id == page_id,
                                                          NotificationAttempt.user_id == user_id,
                                                          NotificationAttempt.method == "voice",
                                                          NotificationAttempt.external_id == call_sid)).first()


def heartbeat(session: Session, name: str) -> HeartbeatRecord | None:
    return session.get(HeartbeatRecord, name)


def heartbeat_for_update(session: Session, name: str) -> HeartbeatRecord:
    """The heartbeat row, locked (created when first seen)."""
    row = session.exec(select(HeartbeatRecord).where(HeartbeatRecord.name == name).with_for_update()).first()
    if row is None:
        row = HeartbeatRecord(name=name)
        session.add(row)
        session.flush()
    return row
