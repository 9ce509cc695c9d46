"""Pages in the database: mapping between stored rows and the pure `escalation.Page`, with row locks so two
people clicking at once (or a button and a timer) are applied one after the other."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.paging.domain.escalation import HistoryEntry, Page, PageState, Position
from storage.models import AlertGroupIncident, AlertRecord, IncidentRecurrence, PageNotification, PageRecord


def _entry_to_dict(e: HistoryEntry) -> dict[str, Any]:
    return {"at": e.at.isoformat(), "from": e.from_state.value if e.from_state else None, "to": e.to_state.value,
            "actor": e.actor, "note": e.note}


def _entry_from_dict(d: dict[str, Any]) -> HistoryEntry:
    return HistoryEntry(at=datetime.fromisoformat(d["at"]), from_state=PageState(d["from"]) if d["from"] else None,
                        to_state=PageState(d["to"]), actor=d.get("actor"), note=d.get("note", ""))


def to_page(row: PageRecord) -> Page:
    return Page(id=str(row.id), policy=row.policy, state=PageState(row.state),
                position=Position(pass_number=row.pass_number, step_index=row.step_index), exhausted=row.exhausted,
                acknowledged_by=row.acknowledged_by, history=tuple(_entry_from_dict(d) for d in row.history or []))


def apply_page(row: PageRecord, page: Page) -> None:
    """Copy the pure page's state onto the row (history reassigned, so JSON change tracking sees it)."""
    row.state = page.state.value
    row.pass_number = page.position.pass_number
    row.step_index = page.position.step_index
    row.exhausted = page.exhausted
    row.acknowledged_by = page.acknowledged_by
    row.history = [_entry_to_dict(e) for e in page.history]


def lock_page(session: Session, page_id: int) -> PageRecord | None:
    """Load a page row for update: PostgreSQL locks the row; SQLite transactions already hold the write lock."""
    return session.exec(select(PageRecord).where(PageRecord.id == page_id).with_for_update()).first()


def notifications(session: Session, page_id: int) -> list[PageNotification]:
    return list(session.exec(select(PageNotification).where(PageNotification.page_id == page_id)
                             .order_by(col(PageNotification.id))))


def open_pages_for_alert(session: Session, alert_key: str) -> list[PageRecord]:
    return list(session.exec(select(PageRecord).where(PageRecord.alert_key == alert_key,
                                                      PageRecord.state != "resolved")))


OPEN_STATES = ("triggered", "escalated")


def open_page_for_group(session: Session, group_identity: str) -> PageRecord | None:
    """The not yet resolved page of an alert group (pages of a group are keyed by its identity), if any."""
    return session.exec(select(PageRecord).where(PageRecord.alert_key == group_identity,
                                                 PageRecord.state != "resolved")
                        .order_by(col(PageRecord.id).desc())).first()


def link_group_incident(session: Session, group_identity: str, incident_id: int,
                        previous_incident_id: int | None = None) -> None:
    """The group's alerts now join `incident_id`; with `previous_incident_id`, record that it recurred."""
    link = session.get(AlertGroupIncident, group_identity)
    if link is None:
        session.add(AlertGroupIncident(group_identity=group_identity, incident_id=incident_id))
    else:
        link.incident_id = incident_id
        session.add(link)
    if previous_incident_id is not None:
        session.add(IncidentRecurrence(incident_id=incident_id, previous_incident_id=previous_incident_id,
                                       group_identity=group_identity))


def recurred_from(session: Session, incident_id: int) -> int | None:
    """The incident that `incident_id` is a recurrence of, if any."""
    row = session.get(IncidentRecurrence, incident_id)
    return row.previous_incident_id if row is not None else None


def page_alerts(session: Session, page_id: int) -> list[AlertRecord]:
    """The latest record of every alert that joined a page (firing or since resolved), oldest alert first."""
    fingerprints = set(session.exec(select(AlertRecord.fingerprint).where(AlertRecord.page_id == page_id)))
    if not fingerprints:
        return []
    first = session.exec(select(AlertRecord.id).where(AlertRecord.page_id == page_id)
                         .order_by(col(AlertRecord.id))).first()
    latest: dict[str, AlertRecord] = {}
    for row in session.exec(select(AlertRecord).where(col(AlertRecord.fingerprint).in_(fingerprints),
                                                      col(AlertRecord.id) >= first).order_by(col(AlertRecord.id))):
        latest[row.fingerprint] = row
    return sorted(latest.values(), key=lambda r: r.id)


def due_pages(session: Session, now: datetime) -> list[tuple[int, int, int, bool]]:
    """Open pages with work due: a step recorded but not delivered, or a step whose timeout has passed.
    Returns (page id, pass, step, step delivered)."""
    rows = session.exec(
        select(PageRecord.id, PageRecord.pass_number, PageRecord.step_index, PageRecord.step_notified)
        .where(col(PageRecord.state).in_(OPEN_STATES),
               or_(col(PageRecord.step_notified).is_(False),
                   (col(PageRecord.exhausted).is_(False)) & (col(PageRecord.next_step_at) <= now)))
        .order_by(col(PageRecord.id)))
    return [(r[0], r[1], r[2], bool(r[3])) for r in rows]


# Deliveries claimed in this process, for SQLite (one process per database file, and no row locks).
_local_claims: set[tuple[int, int]] = set()
_local_claims_changed = threading.Condition()


@contextmanager
def delivery_claim(session_factory: Callable[[], Any], engine, page_id: int, *,
                   wait: bool) -> Iterator[Session | None | bool]:
    """Exclusive right to deliver a page's current step, held for the whole delivery.

    On PostgreSQL it is the page row locked FOR NO KEY UPDATE in a session kept open during the delivery (yielded;
    its commit records the delivery): a process that dies mid-delivery drops the lock with its connection, and
    the sweep (SKIP LOCKED) never waits on a delivery in progress. Notification rows can still be inserted
    meanwhile, as their foreign key only needs a KEY SHARE lock. On SQLite it is an in-process claim (yields
    None; the caller uses short sessions, as a long SQLite transaction would block every writer). Yields False
    when `wait` is false and someone else is delivering."""
    if engine.dialect.name == "postgresql":
        with session_factory() as s:
            row = s.exec(select(PageRecord).where(PageRecord.id == page_id)
                         .with_for_update(key_share=True, skip_locked=not wait)).first()
            yield s if row is not None else False
        return
    key = (id(engine), page_id)
    with _local_claims_changed:
        while key in _local_claims and wait:
            _local_claims_changed.wait()
        claimed = key not in _local_claims
        if claimed:
            _local_claims.add(key)
    if not claimed:
        yield False
        return
    try:
        yield None
    finally:
        with _local_claims_changed:
            _local_claims.discard(key)
            _local_claims_changed.notify_all()
