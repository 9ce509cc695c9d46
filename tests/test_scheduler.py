"""The scheduler: one leader among processes sharing a database, jobs persisted in the database."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from bot.scheduler import Scheduler
from storage.db import make_engine
from storage.types import utcnow


def touch(path: str) -> None:
    """A job target (importable, so the job store can pickle a reference to it)."""
    Path(path).write_text("ran")


def _wait(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_one_leader_runs_jobs_any_replica_stores_and_a_follower_takes_over(database_url, tmp_path):
    engines = [make_engine(database_url), make_engine(database_url)]
    first = Scheduler(engines[0], leader_retry_seconds=0.2, store_poll_seconds=0.3)
    second = Scheduler(engines[1], leader_retry_seconds=0.2, store_poll_seconds=0.3)
    try:
        first.start()
        second.start()
        assert first.leader and not second.leader

        # The follower (paused) stores the job; the leader finds it in the shared store and runs it.
        ran = tmp_path / "ran-by-leader"
        second.at("test:leader-runs", utcnow() + timedelta(milliseconds=300), touch, (str(ran),))
        _wait(ran.exists)
        assert "test:leader-runs" not in first.job_ids()

        first.shutdown()
        _wait(lambda: second.leader)
        after = tmp_path / "ran-after-takeover"
        second.at("test:after-takeover", utcnow() + timedelta(milliseconds=200), touch, (str(after),))
        _wait(after.exists)
    finally:
        first.shutdown()
        second.shutdown()
        for e in engines:
            e.dispose()


def test_jobs_survive_a_new_scheduler_and_run_late_rather_than_never(database_url, tmp_path):
    engine = make_engine(database_url)
    target = tmp_path / "late"
    first = Scheduler(engine)
    first.start()
    first.at("test:late", utcnow() + timedelta(seconds=1), touch, (str(target),), grace=None)
    first.shutdown()  # "the process stops" before the job is due
    time.sleep(1.5)
    assert not target.exists()
    second = Scheduler(engine)
    try:
        second.start()
        _wait(target.exists)
    finally:
        second.shutdown()
        engine.dispose()
