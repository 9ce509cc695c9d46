"""Storage on the backend under test: aware UTC datetimes round-trip, and migrations go down and up cleanly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlmodel import select

from storage.db import alembic_config, current_revision, head_revision, make_engine, session_scope
from storage.models import Incident, TimelineEvent


def test_aware_datetimes_round_trip_as_utc_and_naive_ones_are_refused(database_url):
    engine = make_engine(database_url)
    london = datetime(2027, 3, 28, 12, 30, tzinfo=ZoneInfo("Europe/London"))  # BST: 11:30 UTC
    with session_scope(engine) as s:
        incident = Incident(number=1, title="t", severity="sev3", created_at=london, updated_at=london)
        s.add(incident)
        s.flush()
        s.add(TimelineEvent(incident_id=incident.id, at=london + timedelta(microseconds=123456), kind="note"))
    with session_scope(engine) as s:
        row = s.exec(select(Incident)).one()
        event = s.exec(select(TimelineEvent)).one()
    assert row.created_at == london and row.created_at.tzinfo == timezone.utc
    assert row.created_at.hour == 11
    assert event.at - row.created_at == timedelta(microseconds=123456)
    with pytest.raises(Exception, match="naive datetime"):
        with session_scope(engine) as s:
            s.add(Incident(number=2, title="t", severity="sev3", created_at=datetime(2027, 1, 1),
                           updated_at=datetime(2027, 1, 1)))
    engine.dispose()


def test_migrations_downgrade_to_base_and_upgrade_again(database_url):
    engine = make_engine(database_url)
    cfg = alembic_config(database_url)
    assert current_revision(engine) == head_revision()
    command.downgrade(cfg, "base")
    assert "incidents" not in inspect(engine).get_table_names()
    command.upgrade(cfg, "head")
    tables = set(inspect(engine).get_table_names())
    assert {"incidents", "timeline_events", "pages", "published_shifts", "postmortems", "audit_log"} <= tables
    assert current_revision(engine) == head_revision()
    engine.dispose()
