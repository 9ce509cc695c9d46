"""Scheduled jobs are pickled into `apscheduler_jobs` by reference (`module:function`). A database written by an
earlier Firewatch keeps those references, so every one it could hold must still resolve after an upgrade."""

from __future__ import annotations

import pickle
import re
from datetime import timedelta
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import text

from bot import jobs
from storage.db import make_engine, upgrade
from storage.types import utcnow

ROOT = Path(__file__).resolve().parents[1]
# The job entry points the first release scheduled (its bot/jobs.py), as they sit in its job stores.
RELEASED_JOB_REFERENCES = {
    "bot.jobs:page_timeout": (7, 0, 1),
    "bot.jobs:page_retry": (7, 0, 1),
    "bot.jobs:shift_handoff": ("payments",),
    "bot.jobs:sweep": (),
}


def _stored_state(job_id: str, func_ref: str, args: tuple, when) -> bytes:
    """A job row exactly as APScheduler 3 pickles it (`Job.__getstate__`, version 1)."""
    return pickle.dumps({
        "version": 1, "id": job_id, "func": func_ref, "trigger": DateTrigger(run_date=when), "executor": "default",
        "args": args, "kwargs": {}, "name": func_ref.split(":")[1], "misfire_grace_time": None, "coalesce": True,
        "max_instances": 1, "next_run_time": when,
    }, pickle.HIGHEST_PROTOCOL)


def test_jobs_stored_by_the_first_release_load_and_point_at_todays_entry_points(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    store = SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")
    store.start(None, "default")  # creates the table the way the running scheduler does
    when = utcnow() + timedelta(hours=1)
    try:
        with engine.begin() as conn:
            for i, (ref, args) in enumerate(RELEASED_JOB_REFERENCES.items()):
                conn.execute(text("INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (:i, :t, :s)"),
                             {"i": f"old-{i}", "t": when.timestamp(), "s": _stored_state(f"old-{i}", ref, args, when)})
        upgrade(database_url)  # `firewatch db upgrade` after installing the new version leaves the rows alone
        loaded = {job.id: job for job in store.get_all_jobs()}
        assert len(loaded) == len(RELEASED_JOB_REFERENCES)
        for i, (ref, args) in enumerate(RELEASED_JOB_REFERENCES.items()):
            job = loaded[f"old-{i}"]
            assert job.func is getattr(jobs, ref.split(":")[1])
            assert tuple(job.args) == args
    finally:
        store.shutdown()
        engine.dispose()


def test_every_job_reference_in_the_code_names_a_job_entry_point():
    """Features schedule jobs by textual reference; a renamed entry point must fail here, not at 3 a.m."""
    refs = set()
    for path in (ROOT / "bot").rglob("*.py"):
        refs |= set(re.findall(r'"bot\.jobs:(\w+)"', path.read_text()))
    assert {"page_timeout", "page_retry", "shift_handoff", "sweep"} <= refs
    for name in refs:
        assert callable(getattr(jobs, name, None)), f"bot.jobs has no job entry point {name!r}"
