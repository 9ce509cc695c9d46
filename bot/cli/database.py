"""The context a database-only CLI command runs in (reads and writes the database; makes no Slack calls)."""

from __future__ import annotations

import click


def config_option(fn):
    """`--config PATH`: the firewatch.yaml to use (default: FIREWATCH_CONFIG or ./firewatch.yaml)."""
    return click.option("--config", "config_path", default=None, metavar="PATH", help="firewatch.yaml to use")(fn)


def database_context(config_path: str | None):
    """An AppContext on the configured database, without a Slack client."""
    from bot.cli import load_or_exit
    from bot.context import AppContext
    from bot.settings import Settings
    from storage.db import make_engine

    settings = Settings()
    return AppContext(settings=settings, config=load_or_exit(config_path), engine=make_engine(settings.database_url),
                      slack=None)  # type: ignore[arg-type]
