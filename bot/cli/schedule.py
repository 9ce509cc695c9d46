"""`firewatch schedule ...` commands: preview, export (iCal) and explain.

The group is named `schedule`; the main CLI attaches it with `cli.add_command(schedule)`. With
FIREWATCH_DATABASE_URL set, the commands plan with what the running bot stored (shifts served and published,
overrides, PTO entered in Slack, pages received), so they agree with `/oncall`; without it, from the config alone.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import click

from bot.rotations.domain.config import RotationConfig
from bot.rotations.domain.engine import Plan, plan_window
from bot.rotations.domain.explain import explain as explain_shift
from bot.rotations.domain.ical import to_ical
from bot.rotations.domain.report import fairness_report

DEFAULT_CONFIG = "./firewatch.yaml"


def _default_config() -> str:
    return os.environ.get("FIREWATCH_CONFIG") or DEFAULT_CONFIG


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def _load_config(config_path: str):
    from bot.config import ConfigError, load_config

    try:
        return load_config(config_path)
    except ConfigError as exc:
        click.echo(f"{exc.path}: invalid configuration:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)


def _load_rotation(config_path: str, name: str) -> RotationConfig:
    config = _load_config(config_path)
    rotation = next((r for r in config.rotations if r.name == name), None)
    if rotation is None:
        known = ", ".join(r.name for r in config.rotations) or "(none configured)"
        _fail(f"unknown rotation {name!r}; known rotations: {known}")
    return rotation  # type: ignore[return-value]


def _inputs(rotation: RotationConfig) -> tuple[RotationConfig, dict]:
    """Planner inputs from the database `serve` uses (FIREWATCH_DATABASE_URL, default ./firewatch.db), so the CLI
    and the bot agree; config only when that default database does not exist yet."""
    from bot.settings import DEFAULT_DATABASE_URL

    url = os.environ.get("FIREWATCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    if url == DEFAULT_DATABASE_URL and not Path("firewatch.db").exists():
        return rotation, {}
    # Imported here: the engine itself stays free of storage; only this command-line adapter reads it.
    from bot.rotations.service import stored_inputs
    from storage.db import make_engine, migration_problem

    engine = make_engine(url)
    problem = migration_problem(engine)
    engine.dispose()
    if problem:
        _fail(f"{url}: {problem}")
    return stored_inputs(url, rotation)


def _plan(rotation: RotationConfig, start: date, end: date) -> Plan:
    if end <= start:
        _fail(f"--end ({end}) must be after --start ({start})")
    rotation, inputs = _inputs(rotation)
    return plan_window(rotation, start, end, **inputs)


def _preview_json(result: Plan) -> dict:
    report = fairness_report(result)
    return {
        "rotation": result.rotation.name,
        "timezone": result.rotation.timezone,
        "shifts": [s.as_dict(result.rotation.zone) for s in result.shifts],
        "fairness": report.as_dict(),
        "violations": [v.as_dict(result.rotation.zone) for v in result.violations],
    }


def _preview_table(result: Plan) -> str:
    tz = result.rotation.zone
    names = {m.user: m.display for m in result.rotation.members}
    rows = [("start", "end", "hours", "role", "user", "name", "weight")]
    for s in result.shifts:
        rows.append((
            s.start.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z"),
            s.end.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z"),
            f"{s.hours:g}",
            s.role,
            s.user,
            names.get(s.user, s.user),
            f"{s.weight:.2f}",
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"rotation {result.rotation.name} ({result.rotation.timezone})"]
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.append("")
    lines.append(fairness_report(result).render())
    for v in result.violations:
        lines.append(f"! {v.message}")
    return "\n".join(lines)


def _parse_at(value: str, rotation: RotationConfig) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--at {value!r} is not a date-time like 2027-03-01T10:00 or 2027-03-01T10:00+00:00")
    from bot.rotations.domain.timeline import to_aware

    return to_aware(parsed, rotation.zone)


config_option = click.option(
    "--config", "config_path", default=_default_config, show_default="$FIREWATCH_CONFIG or ./firewatch.yaml",
    type=click.Path(dir_okay=False, path_type=str), help="Path to firewatch.yaml.",
)
rotation_option = click.option("--rotation", "rotation_name", required=True, help="Rotation name.")


@click.group(name="schedule")
def schedule() -> None:
    """Preview, export and explain on-call schedules."""


@schedule.command()
@rotation_option
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day (rotation's zone).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Day after the last (exclusive).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@config_option
def preview(rotation_name: str, start: datetime, end: datetime, fmt: str, config_path: str) -> None:
    """Show the planned shifts and fairness for a date range."""
    rotation = _load_rotation(config_path, rotation_name)
    result = _plan(rotation, start.date(), end.date())
    if fmt == "json":
        click.echo(json.dumps(_preview_json(result), indent=2))
    else:
        click.echo(_preview_table(result))


@schedule.command()
@rotation_option
@click.option("--ical", "ical_path", required=True, type=click.Path(dir_okay=False, path_type=str),
              help="Where to write the .ics file ('-' for stdout).")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (default: today).")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Day after the last (default: start + 8 weeks).")
@config_option
def export(rotation_name: str, ical_path: str, start: datetime | None, end: datetime | None, config_path: str) -> None:
    """Export shifts as an iCalendar file."""
    rotation = _load_rotation(config_path, rotation_name)
    first = start.date() if start else datetime.now(rotation.zone).date()
    last = end.date() if end else first + timedelta(weeks=8)
    result = _plan(rotation, first, last)
    data = to_ical(result.shifts, calendar_name=f"On call: {rotation.name}",
                   names={m.user: m.display for m in rotation.members})
    if ical_path == "-":
        click.echo(data.decode("utf-8"), nl=False)
        return
    try:
        Path(ical_path).write_bytes(data)
    except OSError as exc:
        _fail(f"cannot write {ical_path}: {exc.strerror}")
    click.echo(f"wrote {len(result.shifts)} shifts to {ical_path}")


@schedule.command()
@rotation_option
@click.option("--at", "at_text", required=True, help="Instant, e.g. 2027-03-01T12:00 (rotation's zone) or with offset.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@config_option
def explain(rotation_name: str, at_text: str, fmt: str, config_path: str) -> None:
    """Explain why a person has the shift covering an instant."""
    rotation = _load_rotation(config_path, rotation_name)
    at = _parse_at(at_text, rotation)
    rotation, inputs = _inputs(rotation)
    result = explain_shift(rotation, at, **inputs)
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(result.render())


@click.group(name="report")
def report() -> None:
    """On-call reports (`firewatch report health`, `firewatch report pay`)."""


@report.command()
@rotation_option
@click.option("--period", required=True, help="A quarter like 2027-Q1 or a month like 2027-03.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--chart", "chart_path", type=click.Path(dir_okay=False, path_type=str), default=None,
              help="PNG chart to write (default: ./health-<rotation>-<period>.png).")
@config_option
def health(rotation_name: str, period: str, fmt: str, chart_path: str | None, config_path: str) -> None:
    """Per person: shifts, night/weekend/holiday hours, longest streak, burden vs share; table or JSON, and a PNG."""
    from bot.rotations.domain.health import health_report, parse_period

    try:
        start, end = parse_period(period)
    except ValueError as exc:
        _fail(f"--period: {exc}")
    rotation = _load_rotation(config_path, rotation_name)
    result = _plan(rotation, start, end)
    result_report = health_report(result, start, end, period)
    chart = result_report.chart_png(chart_path or f"health-{rotation.name}-{period}.png")
    if fmt == "json":
        click.echo(json.dumps(result_report.as_dict() | {"chart": str(chart)}, indent=2))
    else:
        click.echo(result_report.render())
        click.echo(f"chart: {chart}")


@report.command()
@click.option("--rotation", "rotation_names", required=True, multiple=True,
              help="Rotation name; repeat it (or say `all`) to pay hours on several rotations once.")
@click.option("--month", required=True, help="A month like 2027-03 (each person's own time zone).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@config_option
def pay(rotation_names: tuple[str, ...], month: str, fmt: str, config_path: str) -> None:
    """Pay lines per person and hour type (business, off-hours, weekend, holiday) from the `pay:` rates."""
    from bot.rotations.domain.pay import parse_month, pay_lines, totals_by_currency

    try:
        first, after = parse_month(month)
    except ValueError as exc:
        _fail(f"--month: {exc}")
    config = _load_config(config_path)
    if not config.pay.rates:
        _fail(f"{config_path}: no pay rates configured; add a `pay:` section with `rates:` "
              "(e.g. `rates: {default: {currency: EUR, off_hours: 3, weekend: 5, holiday: 8}}`)")
    rotations = _pay_rotations(config, rotation_names)
    payees, shifts = _pay_inputs(rotations, first, after)
    try:
        lines = pay_lines(config.pay, payees, shifts, first, after)
    except ValueError as exc:
        _fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps({"month": month, "rotations": [r.name for r in rotations],
                               "lines": [line.as_dict() for line in lines],
                               "totals": totals_by_currency(lines)}, indent=2))
        return
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["user", "name", "country", "currency", "hour_type", "hours",
                                                "rate", "amount", "rotations"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(line.as_dict() for line in lines)
    click.echo(buffer.getvalue(), nl=False)


def _pay_rotations(config, names: tuple[str, ...]) -> list[RotationConfig]:
    if "all" in names:
        return list(config.rotations)
    known = {r.name: r for r in config.rotations}
    unknown = [n for n in names if n not in known]
    if unknown:
        _fail(f"unknown rotation {unknown[0]!r}; known rotations: {', '.join(known) or '(none configured)'}")
    return [known[n] for n in dict.fromkeys(names)]


def _pay_inputs(rotations: list[RotationConfig], first: date, after: date):
    """People (first rotation listing them decides zone and country) and their shifts on every rotation."""
    from bot.rotations.domain.pay import Payee

    payees: dict[str, Payee] = {}
    shifts: dict[str, list] = {}
    for rotation in rotations:
        # A day either side: the month is cut in each person's own zone, which may differ from the rotation's.
        result = _plan(rotation, first - timedelta(days=1), after + timedelta(days=1))
        for member in rotation.members:
            payee = payees.setdefault(member.user, Payee(
                member.user, member.display, member.timezone or rotation.timezone, member.country,
                member.subdivision))
            mine = [s for s in result.shifts if s.user == member.user]
            if mine and rotation.name not in payee.rotations:
                payee.rotations.append(rotation.name)
            shifts.setdefault(member.user, []).extend(mine)
    return list(payees.values()), shifts


def main() -> None:  # pragma: no cover - convenience for `python -m bot.cli.schedule`
    schedule()


if __name__ == "__main__":  # pragma: no cover
    main()
