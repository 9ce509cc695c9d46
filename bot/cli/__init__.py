"""The `firewatch` command line."""

from __future__ import annotations

import importlib
import os
import sys

import click

from bot.config import ConfigError, load_config
from bot.settings import Settings


def _config_option(f):
    return click.option("--config", "config_path", default=None, metavar="PATH",
                        help="firewatch.yaml to use (default: $FIREWATCH_CONFIG or ./firewatch.yaml)")(f)


def resolve_config_path(config_path: str | None) -> str:
    return config_path or os.environ.get("FIREWATCH_CONFIG") or "./firewatch.yaml"


def load_or_exit(config_path: str | None, *, missing_ok: bool = False):
    path = resolve_config_path(config_path)
    try:
        return load_config(path, missing_ok=missing_ok)
    except ConfigError as exc:
        click.echo(f"{exc.path}: {len(exc.problems)} problem(s):", err=True)
        for p in exc.problems:
            click.echo(f"  {p}", err=True)
        sys.exit(1)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug output.")
def main(verbose: bool) -> None:
    """Firewatch: incident response for Slack."""
    from bot.ops.logs import configure_logging

    # Read from the environment directly: logging must work even when another setting is invalid.
    secrets = [os.environ.get(name, "") for name in SECRET_ENV_NAMES]
    try:
        configure_logging(os.environ.get("FIREWATCH_LOG_FORMAT"), verbose=verbose, secrets=secrets)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


SECRET_ENV_NAMES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "OPENAI_API_KEY",
                    "FIREWATCH_WEBHOOK_TOKEN")


@main.group()
def config() -> None:
    """Validate firewatch.yaml."""


@config.command("check")
@_config_option
@click.option("--coverage", is_flag=True,
              help="Also check the next 14 days: rotation gaps, policies reaching nobody, on-call people without a "
                   "working contact method (reads the database; exit 1 on any problem).")
def config_check(config_path: str | None, coverage: bool = False) -> None:
    """Print every problem with its key path (exit 1), or a summary (exit 0)."""
    cfg = load_or_exit(config_path)
    inc = cfg.incidents
    click.echo(f"{resolve_config_path(config_path)}: OK")
    click.echo(f"  incidents: prefix '{inc.channel_prefix}', severities {', '.join(inc.severity_names)} "
               f"(default {inc.default_severity}), announcements {inc.announcements_channel or '(none)'}")
    click.echo(f"  admins: {len(cfg.admins)}")
    click.echo(f"  rotations: {', '.join(r.name for r in cfg.rotations) or '(none)'}")
    click.echo(f"  escalation policies: {', '.join(p.name for p in cfg.escalation_policies) or '(none)'}; "
               f"alert routes: {len(cfg.alert_routes)}")
    click.echo(f"  llm: {'configured' if getattr(cfg.llm, 'model', None) else 'not configured (heuristic triage)'}")
    click.echo(f"  postmortems: {'repo ' + str(cfg.postmortems.repo) if cfg.postmortems.repo else 'no repository'}")
    _print_environment_warnings(cfg, resolve_config_path(config_path))
    if coverage:
        from bot.cli.coverage import print_coverage

        sys.exit(print_coverage(cfg))


def _print_environment_warnings(cfg, path: str) -> None:
    """Warnings (exit status unchanged): what the file needs from the environment, and YAML traps."""
    from pathlib import Path

    from bot.ops.config_checks import environment_warnings

    for warning in environment_warnings(cfg, Path(path).read_text(encoding="utf-8"), os.environ):
        click.echo(f"  warning: {warning}")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations (creates the SQLite file if needed)."""
    from storage.db import current_revision, head_revision, make_engine, upgrade

    settings = Settings()
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    click.echo(f"database at {current_revision(engine)} (head {head_revision()})")
    engine.dispose()


@main.command()
@click.option("--mode", type=click.Choice(["socket", "http"]), default="http", show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=3000, show_default=True, type=int)
@_config_option
def serve(mode: str, host: str, port: int, config_path: str | None) -> None:
    """Run the Slack app (and the webhook endpoints)."""
    from bot.ops.logs import redact_also
    from bot.ops.startup import slack_problem
    from bot.server import build_context, serve_forever
    from storage.db import make_engine, migration_problem

    settings = Settings()
    missing = settings.missing_for(mode)
    if missing:
        click.echo(f"cannot start in {mode} mode: set {', '.join(missing)}", err=True)
        sys.exit(1)
    cfg = load_or_exit(config_path)
    redact_also(os.environ.get(name) for name in cfg.secret_env_names())
    engine = make_engine(settings.database_url)
    problem = migration_problem(engine)
    engine.dispose()
    if problem:
        click.echo(f"refusing to start: {problem}", err=True)
        sys.exit(1)
    problem = slack_problem(settings)
    if problem:
        click.echo(f"cannot start: {problem}", err=True)
        sys.exit(1)
    ctx = build_context(settings, cfg)
    serve_forever(ctx, mode=mode, host=host, port=port)


@main.command()
@click.option("--keep", is_flag=True, help="Keep the temporary folder (database, config) and print its path.")
def demo(keep: bool) -> None:
    """Run the demo scenario against a local Slack stand-in and print what Slack users would see."""
    from bot.demo import run_demo

    sys.exit(run_demo(keep=keep))


def _attach_groups() -> None:
    from bot.cli.postmortem import postmortem
    from bot.cli.schedule import report, schedule

    main.add_command(schedule, "schedule")
    main.add_command(report, "report")
    main.add_command(postmortem, "postmortem")
    from bot.cli.importers import import_group
    main.add_command(import_group, name="import")
    # Command modules of newer features; each has `attach(main)` and is skipped when absent.
    for name in OPTIONAL_CLI_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.attach(main)


OPTIONAL_CLI_MODULES = ("bot.cli.contacts", "bot.cli.coverage", "bot.cli.followups", "bot.cli.ops", "bot.cli.paging",
                        "bot.cli.rotations", "bot.cli.telemetry")


_attach_groups()
