"""`firewatch simulate alert` (who an alert would notify, how and when; nothing is sent) and the coverage part of
`firewatch config check --coverage`."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from bot.core.durations import format_duration


def _context(cfg, *, with_slack: bool):
    from bot.context import AppContext
    from bot.settings import Settings
    from bot.slack.client import make_slack_client
    from storage.db import make_engine, migration_problem

    settings = Settings()
    engine = make_engine(settings.database_url)
    problem = migration_problem(engine)
    if problem:
        engine.dispose()
        click.echo(f"cannot read the schedule: {problem} (run `firewatch db upgrade`)", err=True)
        sys.exit(1)
    slack = None
    if with_slack and settings.slack_bot_token:
        slack = make_slack_client(settings.slack_bot_token, settings.normalized_slack_api_url)
    return AppContext(settings=settings, config=cfg, engine=engine, slack=slack)  # type: ignore[arg-type]


def _plain(text: str) -> str:
    return text.replace("<@", "").replace(">", "")


def print_coverage(cfg) -> int:
    """Print the coverage problems of the next 14 days, one line each; the exit status (1 when any)."""
    from bot.coverage.service import find_problems

    ctx = _context(cfg, with_slack=True)
    try:
        problems = find_problems(ctx)
    finally:
        ctx.engine.dispose()
    if ctx.slack is None:
        click.echo("  note: SLACK_BOT_TOKEN is not set, so Slack was not asked who it knows: Slack DMs are not "
                   "counted as a contact method")
    if not problems:
        click.echo(f"  coverage: no problems in the next 14 days ({len(cfg.rotations)} rotation(s), "
                   f"{len(cfg.escalation_policies)} escalation policy(ies))")
        return 0
    click.echo(f"  coverage: {len(problems)} problem(s) in the next 14 days:")
    for p in problems:
        click.echo(f"  {_plain(p.line())}")
    return 1


def _parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        click.echo(f"--at {value!r} is not a time: use YYYY-MM-DDTHH:MM (UTC unless an offset is given), "
                   "like --at 2027-03-06T03:00", err=True)
        sys.exit(2)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@click.group("simulate")
def simulate() -> None:
    """Show what Firewatch would do, without doing it."""


@simulate.command("alert")
@click.option("--labels", required=True, metavar="NAME=VALUE,...", help="alert labels, like team=payments,severity=critical")
@click.option("--at", "at_text", default=None, metavar="TIME", help="when the alert fires (default: now; UTC)")
@click.option("--config", "config_path", default=None, metavar="PATH", help="firewatch.yaml to use")
def simulate_alert(labels: str, at_text: str | None, config_path: str | None) -> None:
    """Print who an alert with these labels would notify, by which method and when, through every escalation step
    and repeat, if nobody acknowledged. Nothing is sent and Slack is not needed."""
    from bot.cli import load_or_exit
    from bot.coverage.domain import LabelSyntaxError, parse_labels
    from bot.coverage.service import simulate_alert as run

    try:
        parsed = parse_labels(labels)
    except LabelSyntaxError as exc:
        click.echo(f"--labels: {exc}", err=True)
        sys.exit(2)
    at = _parse_at(at_text)
    cfg = load_or_exit(config_path)
    ctx = _context(cfg, with_slack=False)
    try:
        result = run(ctx, parsed, at)
    finally:
        ctx.engine.dispose()
    shown = ", ".join(f"{k}={v}" for k, v in parsed.items())
    if result.route is None:
        where = (f"it would be reported in the fallback channel {result.fallback_channel} (webhooks.fallback_channel)"
                 if result.fallback_channel else "webhooks.fallback_channel is not set, so nobody would hear of it")
        click.echo(f"no alert route matches {shown}: nobody would be paged; {where}")
        return
    _print_simulation(cfg, result, shown)


def _print_simulation(cfg, result, shown: str) -> None:
    route, policy = result.route, result.policy
    start = result.notices[0].at
    match = ", ".join(f"{k}={v}" for k, v in route.match.items()) or "everything"
    click.echo(f"alert {shown} at {_utc(start)}")
    # A route from the catalog (the alert's `service` label, no configured route matched) has no index.
    which = (f"route {cfg.alert_routes.index(route) + 1} (match {match})" if route in cfg.alert_routes
             else f"service {route.service!r} (the alert's service label)")
    click.echo(f"{which} -> escalation policy {policy.name!r}: "
               f"{len(policy.steps)} step(s), {policy.repeat} pass(es)")
    for n in result.notices:
        offset = f"+{format_duration(n.at - start)}"
        if n.method == "end":
            told = f"{policy.channel} is told" if policy.channel else "no policy channel to tell"
            click.echo(f"{_utc(n.at)}  {offset:>7}  nobody acknowledged {n.position}: paging stops; {told}")
        elif n.user is None:
            click.echo(f"{_utc(n.at)}  {offset:>7}  {n.position}  {n.target}: nobody on call, nobody notified")
        else:
            click.echo(f"{_utc(n.at)}  {offset:>7}  {n.position}  {n.target}: {n.user} by {n.method} {n.address}")
    click.echo("nothing was sent (simulation; acknowledging at any point stops everything after it)")


def attach(main: click.Group) -> None:
    main.add_command(simulate, "simulate")
