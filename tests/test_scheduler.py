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


def test_a_leader_that_loses_its_lock_pauses_and_the_follower_takes_over_with_a_new_epoch(database_url, tmp_path):
    """PostgreSQL: the leader's dedicated session is killed (as in a failover or a restart): it must notice, pause
    and stop acting on its old epoch, while the follower takes the lock with a higher epoch."""
    if not database_url.startswith("postgresql"):
        import pytest

        pytest.skip("the advisory lock is PostgreSQL's; SQLite's file lock cannot be taken away")
    from sqlalchemy import text

    engines = [make_engine(database_url), make_engine(database_url)]
    first = Scheduler(engines[0], leader_retry_seconds=0.2, check_seconds=0.2)
    second = Scheduler(engines[1], leader_retry_seconds=0.2, check_seconds=0.2)
    try:
        first.start()
        second.start()
        assert first.leader and not second.leader
        old_epoch = first.epoch
        with engines[0].connect() as conn:
            backend = first.lock._conn.execute(text("SELECT pg_backend_pid()")).scalar()
            first.lock._conn.commit()
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": backend})
        _wait(lambda: second.leader)
        _wait(lambda: not first.leader)
        assert second.epoch > old_epoch
        assert first.confirm_leadership() is False and first.aps.state == 2  # STATE_PAUSED: it runs nothing
        # The deposed process's job store still fires: the job is stored but it is the leader who runs it.
        ran = tmp_path / "after-deposition"
        first.at("test:after-deposition", utcnow() + timedelta(milliseconds=200), touch, (str(ran),))
        second.aps.wakeup()
        _wait(ran.exists)
    finally:
        first.shutdown()
        second.shutdown()
        for e in engines:
            e.dispose()


def test_a_stale_epoch_is_not_leadership(database_url):
    """Fencing: if the epoch row moved on (another process acquired), this process stops believing it leads."""
    from sqlalchemy import text

    engine = make_engine(database_url)
    scheduler = Scheduler(engine, check_seconds=60)
    try:
        scheduler.start()
        assert scheduler.leader and scheduler.confirm_leadership()
        with engine.begin() as conn:
            conn.execute(text("UPDATE scheduler_leadership SET epoch = epoch + 1 WHERE id = 1"))
        assert scheduler.confirm_leadership() is False
        assert scheduler.leader is False and scheduler.aps.state == 2  # STATE_PAUSED
    finally:
        scheduler.shutdown()
        engine.dispose()


def test_fenced_jobs_do_nothing_on_a_process_that_is_not_the_leader(database_url, tmp_path):
    from bot import jobs

    from bot.context import AppContext, Services

    engine = make_engine(database_url)
    scheduler = Scheduler(engine, check_seconds=60)
    # Only the scheduler matters to fencing; settings, config and Slack are not read.
    ctx = AppContext(settings=None, config=None, engine=engine, slack=None,  # type: ignore[arg-type]
                     services=Services(scheduler=scheduler))
    previous = jobs._context
    try:
        scheduler.start()
        jobs.install(ctx)
        assert jobs._fenced("test") is True
        scheduler._step_down()
        assert jobs._fenced("test") is False
    finally:
        jobs._context = previous
        scheduler.shutdown()
        engine.dispose()


def test_a_second_serve_on_the_same_sqlite_file_refuses_clearly(tmp_path):
    import pytest

    from bot.scheduler import SecondSchedulerOnFile
    from storage.db import upgrade

    url = f"sqlite:///{tmp_path / 'one.db'}"
    upgrade(url)
    engines = [make_engine(url), make_engine(url)]
    first = Scheduler(engines[0], refuse_second_on_sqlite=True)
    second = Scheduler(engines[1], refuse_second_on_sqlite=True)
    try:
        first.start()
        assert first.leader
        with pytest.raises(SecondSchedulerOnFile, match="already runs on .*one.db.*use PostgreSQL"):
            second.start()
        assert not second.leader and not second.aps.running
    finally:
        first.shutdown()
        second.shutdown()
        for e in engines:
            e.dispose()
