"""The database side of `firewatch postmortem render|publish NUMBER` when run from a shell.

The CLI process has no running app, so it builds a small context from the environment: FIREWATCH_DATABASE_URL
(the database; the same default as `firewatch serve`, sqlite:///./firewatch.db), SLACK_BOT_TOKEN / FIREWATCH_SLACK_API_URL (optional: display names and the Slack notes after a
publish) and the FirewatchConfig the command loaded (--config / FIREWATCH_CONFIG).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Importing the database layer imports alembic, which logs its plugin set-up at INFO; not for this command's output.
_alembic_log = logging.getLogger("alembic")
_alembic_level = _alembic_log.level
_alembic_log.setLevel(max(logging.WARNING, _alembic_level))
try:
    from bot.config import FirewatchConfig
    from bot.context import AppContext
    from bot.incidents import store as incidents
    from bot.postmortems.domain.facts import PostmortemFacts
    from bot.postmortems import service
    from bot.postmortems.store import load_facts_by_number
    from bot.settings import Settings
    from storage.db import make_engine, migration_problem
finally:
    _alembic_log.setLevel(_alembic_level)


class BackendError(Exception):
    """The database cannot be used (not reachable, not migrated); the message says what to do."""


@contextmanager
def context_from_env(config: FirewatchConfig) -> Iterator[AppContext]:
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(max(logging.WARNING, level))  # alembic's import and revision-check chatter is not for us
    try:
        from bot.slack.client import make_slack_client

        settings = Settings()
        _check_sqlite_file(settings.database_url)
        engine = make_engine(settings.database_url)
        problem = migration_problem(engine)
    finally:
        alembic_log.setLevel(level)
    try:
        if problem:
            raise BackendError(f"{_display_url(settings.database_url)}: {problem}")
        slack = (make_slack_client(settings.slack_bot_token, settings.normalized_slack_api_url)
                 if settings.slack_bot_token else None)
        yield AppContext(settings=settings, config=config, engine=engine, slack=slack)  # type: ignore[arg-type]
    finally:
        engine.dispose()


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "the database"


def _check_sqlite_file(url: str) -> None:
    """Opening a missing SQLite file would create an empty one; say what is wrong instead."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - make_engine reports a malformed URL
        return
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" and not Path(database).exists():
        raise BackendError(f"{url}: no such database file. Run this in the directory `firewatch serve` runs in "
                           "(its default database is ./firewatch.db), or set FIREWATCH_DATABASE_URL to its database; "
                           "`firewatch db upgrade` creates a new one")


def load_facts(number: int, config: FirewatchConfig) -> PostmortemFacts:
    """Facts for incident `number` from the database; LookupError when there is no such incident."""
    with context_from_env(config) as ctx:
        return load_facts_by_number(ctx, number)


def stored_narrative(number: int, config: FirewatchConfig) -> dict[str, str]:
    """The narrative drafted for incident `number` (by the model, at `/incident postmortem`), or {}."""
    from sqlmodel import select

    from bot.incidents import store as incident_service
    from storage.models import PostmortemRecord

    with context_from_env(config) as ctx, ctx.session() as s:
        incident = incident_service.get_by_number(s, number)
        if incident is None:
            return {}
        record = s.exec(select(PostmortemRecord).where(PostmortemRecord.incident_id == incident.id)).first()
        return service.stored_sections(record.narrative if record else None)


def publish(number: int, config: FirewatchConfig, workdir: str | Path | None = None) -> service.Published:
    """Draft, store and publish incident `number` like `/incident postmortem publish` (the record is updated and,
    when a Slack token is set, the link is posted). Raises LookupError or PublishError."""
    with context_from_env(config) as ctx:
        with ctx.session() as s:
            incident = incidents.get_by_number(s, number)
        if incident is None:
            raise LookupError(f"no incident number {number} in the database")
        return service.publish_incident(ctx, incident.id, workdir=workdir)
