"""Incident numbers under concurrent declares, on the backend under test (SQLite or PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import select

from bot.incidents import store
from storage.db import make_engine, session_scope
from storage.models import Incident


def test_twenty_concurrent_declares_via_http_get_distinct_numbers_and_channels(harness):
    h = harness
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda i: h.command(f"declare sev2 Concurrent outage {i}"), range(20)))
    assert all(r.status_code == 200 for r in responses)
    h.fake.wait_for(lambda f: len(f.calls_to("pins.add")) == 20, timeout=60)
    with h.ctx.session() as s:
        incidents = s.exec(select(Incident)).all()
    assert sorted(i.number for i in incidents) == list(range(1, 21))
    assert len({i.channel_id for i in incidents}) == 20
    names = [c.params["name"] for c in h.fake.calls_to("conversations.create")]
    assert len(set(names)) == 20 and all(n.startswith("inc-") for n in names)


def test_number_allocation_is_atomic_under_threads(database_url):
    engine = make_engine(database_url)

    def declare(i: int) -> int:
        with session_scope(engine) as s:
            return store.declare(s, title=f"race {i}", severity="sev3", reporter_id="U0X").number

    with ThreadPoolExecutor(max_workers=16) as pool:
        numbers = list(pool.map(declare, range(64)))
    engine.dispose()
    assert sorted(numbers) == list(range(1, 65))
