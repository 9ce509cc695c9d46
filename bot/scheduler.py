"""The scheduler: APScheduler 3 with a persistent SQLAlchemy job store, UTC, explicit job ids.

Page timeouts and handoffs are jobs in the database, so a restart (even a SIGKILL) during a wait runs the job
late instead of never: pages get `misfire_grace_time=None` (run however late). Only one process runs jobs: the
leader holds a PostgreSQL advisory lock on a dedicated connection (or, on SQLite, an exclusive file lock);
other replicas start paused and still write jobs to the shared store. Job functions re-check the database, so
a job that runs twice or late does nothing wrong.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
LEADER_LOCK_KEY = 0x46495245  # "FIRE"
# How often a paused follower retries leadership, and how often the leader re-reads the shared job store for
# jobs other replicas added (APScheduler only wakes for jobs added in its own process).
LEADER_RETRY_SECONDS = 15
STORE_POLL_SECONDS = 15
SWEEP_SECONDS = 120


class LeaderLock:
    """Exclusive scheduler leadership for one process among replicas sharing a database."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._conn = None
        self._file = None

    def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            if self._conn is None:
                # A dedicated connection: the advisory lock lives exactly as long as this session.
                self._conn = self.engine.connect()
            got = self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK_KEY}).scalar()
            self._conn.commit()
            return bool(got)
        database = self.engine.url.database
        path = Path(f"{database}.scheduler.lock") if database and database != ":memory:" else None
        if path is None:
            return True
        self._file = open(path, "a+")  # noqa: SIM115 - held open for the life of the process
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            self._file.close()
            self._file = None
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK_KEY})
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
            self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None


class Scheduler:
    """Wraps a BackgroundScheduler with leadership and the job conventions Firewatch relies on."""

    def __init__(self, engine: Engine, *, leader_retry_seconds: float = LEADER_RETRY_SECONDS,
                 store_poll_seconds: float = STORE_POLL_SECONDS):
        self.engine = engine
        self.leader_retry_seconds = leader_retry_seconds
        self.store_poll_seconds = store_poll_seconds
        self.lock = LeaderLock(engine)
        self.leader = False
        self._stop = threading.Event()
        self.aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
            timezone="UTC",
            # A job due while we were down runs when we are back; stale work is filtered by the jobs themselves.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )

    def start(self) -> None:
        self.leader = self.lock.try_acquire()
        self.aps.start(paused=not self.leader)
        self.aps.add_job(_poll_store, "interval", seconds=self.store_poll_seconds, id="firewatch:poll-store",
                         replace_existing=True, misfire_grace_time=None)
        from bot import jobs

        self.aps.add_job(jobs.sweep, "interval", seconds=SWEEP_SECONDS, id="firewatch:sweep", replace_existing=True,
                         misfire_grace_time=None)
        if not self.leader:
            log.info("scheduler: another process is the leader; this one stays paused and retries")
            threading.Thread(target=self._campaign, name="scheduler-leader", daemon=True).start()
        else:
            log.info("scheduler: this process is the leader")

    def _campaign(self) -> None:
        while not self._stop.wait(self.leader_retry_seconds):
            if self.lock.try_acquire():
                self.leader = True
                self.aps.resume()
                log.info("scheduler: leadership acquired")
                return

    def shutdown(self) -> None:
        """Stop running jobs and give up leadership (safe to call twice)."""
        self._stop.set()
        try:
            if self.aps.running:
                self.aps.shutdown(wait=False)
        finally:
            self.lock.release()
            self.leader = False

    def at(self, job_id: str, when: datetime, func: Callable[..., Any], args: tuple = (), *,
           grace: int | None = None) -> None:
        """Run `func(*args)` once at `when` (aware). `grace=None` runs it however late."""
        self.aps.add_job(func, "date", run_date=when, args=args, id=job_id, replace_existing=True,
                         misfire_grace_time=grace)
        self.aps.wakeup()

    def cancel(self, job_id: str) -> bool:
        try:
            self.aps.remove_job(job_id)
            return True
        except Exception:  # noqa: BLE001 - JobLookupError: already ran or never existed
            return False

    def job_ids(self) -> list[str]:
        return [j.id for j in self.aps.get_jobs()]


def _poll_store() -> None:
    """Interval job whose only purpose is to wake the leader so it sees jobs other replicas stored."""
