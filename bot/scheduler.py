"""The scheduler: APScheduler 3 with a persistent SQLAlchemy job store, UTC, explicit job ids, and leadership
that is checked rather than believed.

Page timeouts and handoffs are jobs in the database, so a restart (even a SIGKILL) during a wait runs the job
late instead of never. Only one process runs jobs: the leader holds a PostgreSQL advisory lock on a dedicated
connection (or, on SQLite, an exclusive file lock). Leadership is a fact re-read from the database:

- every replica campaigns forever, with back-off across database outages;
- the leader re-checks, on the same dedicated connection, that it still holds the lock and that its *epoch* (a
  counter in `scheduler_leadership`, incremented on every acquisition) is still the current one, every
  `check_seconds` and before every job; losing either pauses its scheduler at once;
- leader tasks (the page sweep) run only on a confirmed leader.

Job functions re-check the database too, so a job that runs twice or late does nothing wrong.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.core.metrics import JOBS, LEADER, job_label
from storage.types import utcnow

log = logging.getLogger(__name__)
LEADER_LOCK_KEY = 0x46495245  # "FIRE"
# How often a follower campaigns, how often the leader re-checks its lock, and how often it re-reads the shared
# job store for jobs other replicas added (APScheduler only wakes for jobs added in its own process).
LEADER_RETRY_SECONDS = 1.0
LEADER_CHECK_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 8.0
# A new leader waits this long before its leader tasks run: processes that sent a DM while the database was away
# record it (they retry every half second) before the new leader's sweep looks for undelivered steps.
LEADER_SETTLE_SECONDS = 2.0
STORE_POLL_SECONDS = 15
SWEEP_SECONDS = 120


def sweep_seconds() -> float:
    """How often the leader's repair sweep runs: 120 s, or FIREWATCH_SWEEP_SECONDS (fault drills shorten it)."""
    raw = os.environ.get("FIREWATCH_SWEEP_SECONDS", "")
    try:
        return max(1.0, float(raw)) if raw else float(SWEEP_SECONDS)
    except ValueError:
        log.warning("FIREWATCH_SWEEP_SECONDS=%r is not a number; using %d s", raw, SWEEP_SECONDS)
        return float(SWEEP_SECONDS)


class SecondSchedulerOnFile(RuntimeError):
    """Another `serve` already runs the scheduler on this SQLite file."""


class LeaderLock:
    """Exclusive scheduler leadership for one process among replicas sharing a database, with its epoch."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.epoch: int | None = None
        self._conn = None
        self._file = None
        self._guard = threading.Lock()  # the dedicated connection is used by the campaign thread and job threads
        self.holder = f"{socket.gethostname()}:{os.getpid()}"

    @property
    def postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def try_acquire(self) -> bool:
        """Take the lock if free and bump the epoch. Database errors propagate (the caller backs off)."""
        with self._guard:
            if self.postgres:
                return self._acquire_pg()
            return self._acquire_file()

    def _acquire_pg(self) -> bool:
        try:
            if self._conn is None:
                # A dedicated connection: the advisory lock lives exactly as long as this session.
                self._conn = self.engine.connect()
            got = self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK_KEY}).scalar()
            self._conn.commit()
            if not got:
                return False
            self.epoch = self._bump_epoch(self._conn)
            return True
        except Exception:
            self._drop_connection()
            raise

    def _acquire_file(self) -> bool:
        database = self.engine.url.database
        if database and database != ":memory:":
            path = Path(f"{database}.scheduler.lock")
            handle = open(path, "a+")  # noqa: SIM115 - held open for as long as we lead
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._file = handle
        try:
            with self.engine.connect() as conn:
                self.epoch = self._bump_epoch(conn)
        except Exception:
            if self._file is not None:  # not leading after all: let the next attempt (or process) take the lock
                self._file.close()
                self._file = None
            raise
        return True

    def _bump_epoch(self, conn) -> int:
        params = {"holder": self.holder, "at": utcnow()}
        epoch = conn.execute(text("UPDATE scheduler_leadership SET epoch = epoch + 1, holder = :holder, "
                                  "acquired_at = :at WHERE id = 1 RETURNING epoch"), params).scalar()
        if epoch is None:  # a database created without the migration's seed row
            conn.execute(text("INSERT INTO scheduler_leadership (id, epoch, holder, acquired_at) "
                              "VALUES (1, 1, :holder, :at)"), params)
            epoch = 1
        conn.commit()
        return int(epoch)

    def still_held(self) -> bool:
        """True only if the lock is still ours on the dedicated connection and our epoch is the current one."""
        with self._guard:
            if self.epoch is None:
                return False
            try:
                if self.postgres:
                    if self._conn is None:
                        return False
                    row = self._conn.execute(text(
                        "SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND pid = pg_backend_pid() AND classid = 0 AND objid = :k AND objsubid = 1), "
                        "(SELECT epoch FROM scheduler_leadership WHERE id = 1)"), {"k": LEADER_LOCK_KEY}).one()
                    self._conn.commit()
                    return bool(row[0]) and row[1] == self.epoch
                with self.engine.connect() as conn:
                    current = conn.execute(text("SELECT epoch FROM scheduler_leadership WHERE id = 1")).scalar()
                return current == self.epoch
            except Exception as exc:  # noqa: BLE001 - a lost connection means a lost lock
                log.warning("scheduler: leadership check failed (%s); giving up leadership", exc.__class__.__name__)
                self._drop_connection()
                return False

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never back to the pool: its session may still hold the lock
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
            self._conn = None

    def release(self) -> None:
        with self._guard:
            self.epoch = None
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock_all()"))
                    self._conn.commit()
                    self._conn.close()
                except Exception:  # noqa: BLE001
                    self._drop_connection()
                self._conn = None
            if self._file is not None:
                self._file.close()
                self._file = None


@dataclass
class LeaderTask:
    """A function run every `every` seconds on the confirmed leader only (not an APScheduler job)."""

    name: str
    func: Callable[[], Any]
    every: float


class Scheduler:
    """Wraps a BackgroundScheduler with checked leadership and the job conventions Firewatch relies on."""

    def __init__(self, engine: Engine, *, leader_retry_seconds: float = LEADER_RETRY_SECONDS,
                 store_poll_seconds: float = STORE_POLL_SECONDS, check_seconds: float = LEADER_CHECK_SECONDS,
                 refuse_second_on_sqlite: bool = False, settle_seconds: float = LEADER_SETTLE_SECONDS):
        self.engine = engine
        self.leader_retry_seconds = leader_retry_seconds
        self.store_poll_seconds = store_poll_seconds
        self.check_seconds = check_seconds
        self.refuse_second_on_sqlite = refuse_second_on_sqlite
        self.settle_seconds = settle_seconds
        self._led_since = 0.0
        self.lock = LeaderLock(engine)
        self.leader = False
        self.started = False
        self.tasks: list[LeaderTask] = []
        self._state = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
            timezone="UTC",
            # A job due while we were down runs when we are back; stale work is filtered by the jobs themselves.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        )
        self.aps.add_listener(_count_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    @property
    def stopping(self) -> bool:
        """True once `shutdown` has begun."""
        return self._stop.is_set()

    @property
    def epoch(self) -> int | None:
        return self.lock.epoch

    def add_leader_task(self, name: str, func: Callable[[], Any], every: float) -> None:
        """Run `func` every `every` seconds while (and only while) this process is the confirmed leader."""
        self.tasks.append(LeaderTask(name, func, every))

    def start(self) -> None:
        self.aps.start(paused=True)
        self.started = True
        self.aps.add_job(_poll_store, "interval", seconds=self.store_poll_seconds, id="firewatch:poll-store",
                         replace_existing=True, misfire_grace_time=None)
        self.aps.add_job("bot.jobs:sweep", "interval", seconds=sweep_seconds(), id="firewatch:sweep", replace_existing=True,
                         misfire_grace_time=None)
        try:
            self._try_become_leader()
        except Exception as exc:  # noqa: BLE001 - the campaign thread keeps trying
            log.warning("scheduler: could not campaign at start (%s); retrying", exc.__class__.__name__)
        if not self.leader:
            if self.refuse_second_on_sqlite and not self.lock.postgres:
                self.shutdown()
                raise SecondSchedulerOnFile(
                    f"another `firewatch serve` already runs on {self.engine.url.database}; SQLite supports one "
                    "process per database file (use PostgreSQL for several replicas)")
            log.info("scheduler: another process is the leader; this one follows and campaigns")
        self._spawn("scheduler-leadership", self._leadership_loop)
        for task in self.tasks:
            self._spawn(f"leader-task:{task.name}", self._task_loop, task)

    def _spawn(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _try_become_leader(self) -> None:
        if self.lock.try_acquire():
            with self._state:
                if self._stop.is_set():
                    return
                self.leader = True
                LEADER.set(1)
                self._led_since = time.monotonic()
                self.aps.resume()
            log.info("scheduler: leadership acquired (epoch %s)", self.lock.epoch)

    def _leadership_loop(self) -> None:
        """Campaign while following; re-check while leading. Forever, until shutdown."""
        failures = 0
        while not self._stop.is_set():
            try:
                if self.leader:
                    self.confirm_leadership()
                else:
                    self._try_become_leader()
                failures = 0
                wait = self.check_seconds if self.leader else self.leader_retry_seconds
            except Exception as exc:  # noqa: BLE001 - a database outage: back off, never stop campaigning
                failures += 1
                wait = min(MAX_BACKOFF_SECONDS, self.leader_retry_seconds * 2 ** min(failures, 6))
                log.warning("scheduler: campaign failed (%s); retrying in %.1f s", exc.__class__.__name__, wait)
            self._stop.wait(wait)

    def confirm_leadership(self) -> bool:
        """Re-read leadership from the database; if it is gone, pause at once. True while we lead."""
        if not self.leader:
            return False
        if self.lock.still_held():
            return True
        self._step_down()
        return False

    def _step_down(self) -> None:
        with self._state:
            if not self.leader:
                return
            self.leader = False
            LEADER.set(0)
            try:
                if self.aps.running:
                    self.aps.pause()
            finally:
                self.lock.release()
        log.warning("scheduler: leadership lost; scheduler paused, campaigning again")

    def _task_loop(self, task: LeaderTask) -> None:
        while not self._stop.wait(task.every):
            if not self.leader or time.monotonic() - self._led_since < self.settle_seconds:
                continue
            if not self.confirm_leadership():
                continue
            try:
                task.func()
            except Exception as exc:  # noqa: BLE001 - a database blip; the next round retries
                log.warning("leader task %s failed: %s", task.name, exc.__class__.__name__)

    def shutdown(self) -> None:
        """Stop running jobs and give up leadership (safe to call twice)."""
        self._stop.set()
        with self._state:
            try:
                if self.aps.running:
                    self.aps.shutdown(wait=False)
            finally:
                self.lock.release()
                self.leader = False
                LEADER.set(0)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def at(self, job_id: str, when: datetime, func: Callable[..., Any] | str, args: tuple = (), *,
           grace: int | None = None) -> None:
        """Run `func(*args)` once at `when` (aware). `grace=None` runs it however late. `func` may be a textual
        reference (`"bot.jobs:page_timeout"`), which is what the job store keeps anyway: features name their job
        entry points without importing `bot.jobs`, which imports them."""
        self.aps.add_job(func, "date", run_date=when, args=args, id=job_id, replace_existing=True,
                         misfire_grace_time=grace)
        self.aps.wakeup()

    def cancel(self, job_id: str) -> bool:
        try:
            self.aps.remove_job(job_id)
            return True
        except Exception:  # noqa: BLE001 - JobLookupError: already ran or never existed; or the database is down
            return False

    def job_ids(self) -> list[str]:
        return [j.id for j in self.aps.get_jobs()]


def _count_job(event) -> None:
    """APScheduler listener: one count per job run, by job kind and outcome (ok, failed, missed)."""
    if event.code == EVENT_JOB_MISSED:
        outcome = "missed"
    else:
        outcome = "failed" if getattr(event, "exception", None) is not None else "ok"
    JOBS.labels(job=job_label(event.job_id), outcome=outcome).inc()


def _poll_store() -> None:
    """Interval job whose only purpose is to wake the leader so it sees jobs other replicas stored."""
