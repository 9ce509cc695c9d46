"""`firewatch slo report`: every SLO's remaining error budget and multi-window burn-rate status."""

from __future__ import annotations

import sys

import click


@click.group("slo")
def slo() -> None:
    """Service level objectives (`slos:` in firewatch.yaml) measured in Prometheus."""


@slo.command("report")
@click.option("--config", "config_path", default=None, metavar="PATH", help="firewatch.yaml to use")
def slo_report(config_path: str | None) -> None:
    """Budget left and burn rates (1h/5m, 6h/30m) per SLO; exit 1 if any is burning fast or slow."""
    from bot.cli import load_or_exit
    from bot.telemetry.slo import report_lines

    config = load_or_exit(config_path)
    if not config.slos:
        click.echo("no SLOs configured: add `slos:` (name, service, good, total, objective) to firewatch.yaml")
        return
    if config.evidence.prometheus is None:
        click.echo("evidence.prometheus is not configured: add `evidence: {prometheus: {url: ...}}`", err=True)
        sys.exit(2)
    lines = report_lines(config.evidence.prometheus, config.slos)
    for line in lines:
        click.echo(line)
    sys.exit(1 if any(line.endswith(("fast burn", "slow burn")) for line in lines) else 0)


@click.command("assist")
@click.option("--config", "config_path", default=None, metavar="PATH", help="firewatch.yaml to use")
def assist_report(config_path: str | None) -> None:
    """Precision per kind of suggestion: accepted / (accepted + dismissed), from the Accept/Dismiss buttons."""
    from bot.assist.feedback import precision_lines
    from bot.cli import load_or_exit
    from bot.context import AppContext
    from bot.settings import Settings
    from storage.db import make_engine, migration_problem

    config, settings = load_or_exit(config_path), Settings()
    engine = make_engine(settings.database_url)
    try:
        problem = migration_problem(engine)
        if problem:
            click.echo(f"cannot read suggestions: {problem} (run `firewatch db upgrade`)", err=True)
            sys.exit(1)
        ctx = AppContext(settings=settings, config=config, engine=engine, slack=None)  # type: ignore[arg-type]
        for line in precision_lines(ctx):
            click.echo(line)
    finally:
        engine.dispose()


def attach(main: click.Group) -> None:
    main.add_command(slo)
    report = main.commands.get("report")
    if isinstance(report, click.Group):  # `firewatch report assist` beside the schedule reports
        report.add_command(assist_report, "assist")
