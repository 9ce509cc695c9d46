"""Pages in the database: mapping between stored rows and the pure `escalation.Page`, with row locks so two
people clicking at once (or a button and a timer) are applied one after the other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.paging.escalation import HistoryEntry, Page, PageState, Position
from storage.models import PageNotification, PageRecord


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
