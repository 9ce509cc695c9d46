"""`firewatch import pagerduty|opsgenie|grafana-oncall|ical`: parse flags, call the service, print."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from bot.importers import service
from bot.importers.domain import Directory

_SHARED = [
    click.option("--out", "out", default="firewatch.yaml", show_default=True, metavar="PATH",
                 help="configuration to write (an existing file is merged into, never overwritten blindly)"),
    click.option("--users", "users_csv", default=None, metavar="CSV",
                 help="users.csv with email,slack_id[,name,country,timezone]; else users.lookupByEmail"),
    click.option("--audit", is_flag=True, help="compare the old schedule's fairness with Firewatch's plan"),
    click.option("--audit-months", type=click.Choice(["6", "12"]), default="6", show_default=True,
                 help="how far ahead the audit expands both schedules"),
    click.option("--chart", default=None, metavar="PNG", help="where --audit writes its chart (default: next to --out)"),
    click.option("--dry-run", is_flag=True, help="print what would be written and every item not mapped; write nothing"),
    click.option("--apply-overrides", is_flag=True,
                 help="also store the vendor's future overrides in Firewatch's database (FIREWATCH_DATABASE_URL)"),
]


def _shared(f):
    for option in reversed(_SHARED):
        f = option(f)
    return f


def _fail(problems: list[str]) -> None:
    for line in problems:
        click.echo(line, err=True)
    sys.exit(1)


def _step(text: str) -> None:
    click.echo(text, err=True)


def _directory(emails: list[str], users_csv: str | None) -> Directory:
    if users_csv:
        _step(f"mapping {len(emails)} people through {users_csv}")
        return service.read_users_csv(users_csv)
    from bot.settings import Settings

    settings = Settings()
    if not settings.slack_bot_token:
        _step("no --users and no SLACK_BOT_TOKEN: people cannot be mapped to Slack ids")
        return Directory({})
    from bot.slack.client import make_slack_client

    client = make_slack_client(settings.slack_bot_token, settings.normalized_slack_api_url)
    _step(f"looking up {len(emails)} people with users.lookupByEmail")
    return service.lookup_by_email(emails, client, progress=_step)


def _run(export, out: str, users_csv: str | None, audit: bool, audit_months: str, chart: str | None,
         dry_run: bool, apply_overrides: bool, source: str) -> None:
    try:
        _step(f"read {len(export.schedules)} schedule(s), {len(export.policies)} escalation polic(y/ies), "
              f"{len(export.people)} people")
        directory = _directory(export.emails(), users_csv)
        outcome = service.import_export(export, directory, today=date.today(), existing=out, source=source)
        if dry_run:
            click.echo(f"# --dry-run: would write {out}")
            click.echo(outcome.text, nl=False)
            click.echo(f"\n{len(outcome.notes)} item(s) not mapped exactly:")
            for note in outcome.notes:
                click.echo(f"  - {note.render()}")
        else:
            path = service.write_config(outcome, out)
            click.echo(f"wrote {path}: {len(outcome.result.config['rotations'])} rotation(s), "
                       f"{len(outcome.result.config.get('escalation_policies', []))} escalation polic(y/ies); "
                       f"{len(outcome.notes)} note(s) in its header; check it with `firewatch config check --config {path}`")
            if apply_overrides:
                _store_overrides(outcome)
        if audit:
            chart_path = chart or str(Path(out).with_suffix("")) + "-audit.png"
            audits, written = service.run_audit(outcome, start=date.today(), months=int(audit_months),
                                                chart=chart_path, progress=_step)
            for item in audits:
                click.echo(item.render())
            click.echo(f"chart: {written}")
    except service.ImportFailed as exc:
        _fail(exc.problems)


def _store_overrides(outcome) -> None:
    from datetime import datetime, timezone

    from bot.settings import Settings
    from storage.db import make_engine, migration_problem

    url = Settings().database_url
    engine = make_engine(url)
    problem = migration_problem(engine)
    if problem:
        _fail([f"overrides not stored: {problem}"])
    applied = service.apply_overrides(engine, outcome, now=datetime.now(timezone.utc))
    click.echo(f"overrides: {applied.added} stored, {applied.already_there} already there, "
               f"{applied.past} already over (not stored)")


def _vendor_command(vendor: str):
    @click.command(vendor, help=f"Import schedules and escalation policies from a {vendor} API export.")
    @click.option("--from", "source", required=True, metavar="FILE_OR_DIR",
                  help="a JSON response, or a directory of them, from the vendor's REST API")
    @_shared
    def command(source: str, **options) -> None:
        try:
            export = service.read_export(vendor, source)
        except service.ImportFailed as exc:
            _fail(exc.problems)
        _run(export, source=source, **options)

    return command


@click.group("import")
def import_group() -> None:
    """Move schedules from PagerDuty, Opsgenie, Grafana OnCall or a shared calendar into firewatch.yaml."""


for _vendor in service.PARSERS:
    import_group.add_command(_vendor_command(_vendor))


@import_group.command("ical")
@click.argument("source", metavar="URL_OR_FILE")
@click.option("--rotation", required=True, help="name of the rotation to create")
@_shared
def import_ical(source: str, rotation: str, **options) -> None:
    """Import a rotation kept in a shared calendar (.ics file or http(s) URL)."""
    try:
        export = service.read_calendar(source, rotation)
    except service.ImportFailed as exc:
        _fail(exc.problems)
    _run(export, source=source, **options)
