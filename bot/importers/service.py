"""Import use cases: read an export, map people to Slack ids, write a checked `firewatch.yaml`, audit fairness.

One function per user action (`import_export`, `import_calendar`, `write_config`, `run_audit`, `apply_overrides`); the CLI only
parses flags, calls these and prints. Nothing is written unless the result passes the same validation as
`firewatch config check`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

import yaml

from bot.config import ConfigError, parse_config
from bot.core.mentions import is_user_id
from bot.importers import grafana_oncall, ical, opsgenie, pagerduty
from bot.importers._documents import read_documents
from bot.importers.audit import Audit, audit, draw_chart
from bot.importers.domain import Directory, ImportResult, Note, UnreadableExport, VendorExport, build_config
from bot.rotations.domain.config import zone
from bot.rotations.domain.models import Override
from bot.rotations.domain.timeline import to_aware

PARSERS = {"pagerduty": pagerduty.parse, "opsgenie": opsgenie.parse, "grafana-oncall": grafana_oncall.parse}
ICAL_TIMEOUT_SECONDS = 20.0


class ImportFailed(Exception):
    """The import cannot go on; `problems` says why, one line each. Nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class Outcome:
    export: VendorExport
    result: ImportResult
    text: str  # the YAML that is (or would be) written
    notes: list[Note] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------
# People


def read_users_csv(path: str | Path) -> Directory:
    """users.csv: a header with `email` and `slack_id` (or `slack_user_id`), optional `name`, `country`,
    `timezone`. A `name` column also maps calendar events that name a person instead of an e-mail."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ImportFailed([f"{path}: cannot read ({exc.strerror})"]) from None
    ids: dict[str, str] = {}
    countries: dict[str, str] = {}
    timezones: dict[str, str] = {}
    problems = []
    for n, row in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        email = row.get("email", "").lower()
        slack = row.get("slack_id") or row.get("slack_user_id") or ""
        if not email or not slack:
            problems.append(f"{path} line {n}: needs email and slack_id")
            continue
        if not is_user_id(slack):
            problems.append(f"{path} line {n}: {slack!r} is not a Slack user id (like U0123ABCD)")
            continue
        ids[email] = slack
        if row.get("name"):
            ids.setdefault(row["name"].lower(), slack)
        if row.get("country"):
            countries[email] = row["country"].upper()
        if row.get("timezone"):
            timezones[email] = row["timezone"]
    if problems:
        raise ImportFailed(problems)
    return Directory(ids, countries, timezones)


def lookup_by_email(emails: list[str], client: Any, progress: Callable[[str], None] = lambda _: None) -> Directory:
    """Slack ids through `users.lookupByEmail` (needs the `users:read.email` scope); misses are left unmapped."""
    from slack_sdk.errors import SlackApiError

    ids: dict[str, str] = {}
    timezones: dict[str, str] = {}
    for email in emails:
        try:
            response = client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            code = (exc.response or {}).get("error") if exc.response is not None else None
            if code == "users_not_found":
                progress(f"  {email}: no Slack user")
                continue
            if code == "missing_scope":
                raise ImportFailed(["users.lookupByEmail: the bot token lacks the users:read.email scope "
                                    "(add it in the app manifest and reinstall), or pass --users users.csv"]) from None
            raise ImportFailed([f"users.lookupByEmail failed for {email}: {code or exc}"]) from None
        user = response.get("user") or {}
        if user.get("id"):
            ids[email] = user["id"]
            if user.get("tz"):
                timezones[email] = user["tz"]
            progress(f"  {email} -> {user['id']}")
    return Directory(ids, {}, timezones)


def merge_directories(*directories: Directory) -> Directory:
    ids: dict[str, str] = {}
    countries: dict[str, str] = {}
    timezones: dict[str, str] = {}
    for d in directories:
        for k, v in d.slack_ids.items():
            ids.setdefault(k, v)
        for k, v in d.countries.items():
            countries.setdefault(k, v)
        for k, v in d.timezones.items():
            timezones.setdefault(k, v)
    return Directory(ids, countries, timezones)


# ---------------------------------------------------------------------------------------------------------
# Use cases


def read_export(vendor: str, source: str | Path) -> VendorExport:
    if vendor not in PARSERS:
        raise ImportFailed([f"unknown vendor {vendor!r}; use one of {', '.join(PARSERS)}"])
    try:
        return PARSERS[vendor](read_documents(source))
    except UnreadableExport as exc:
        raise ImportFailed([str(exc)]) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise ImportFailed([f"{source}: not a {vendor} export this importer understands ({exc.__class__.__name__}: "
                            f"{exc})"]) from None


def read_calendar(source: str, rotation: str) -> VendorExport:
    """An .ics file, or an http(s) URL fetched with a timeout."""
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(source, timeout=ICAL_TIMEOUT_SECONDS, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise ImportFailed([f"{source}: could not fetch the calendar ({exc})"]) from None
        data = response.content
    elif "://" in source:
        raise ImportFailed([f"{source}: only http:// and https:// URLs (or a file) are supported"])
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise ImportFailed([f"{source}: cannot read ({exc.strerror})"]) from None
    try:
        return ical.parse(data, rotation)
    except UnreadableExport as exc:
        raise ImportFailed([f"{source}: {exc}"]) from None


def import_export(export: VendorExport, directory: Directory, *, today: date, existing: str | Path | None = None,
                  source: str = "") -> Outcome:
    """Map an export to configuration text (merged into `existing` if that file exists) and validate it."""
    result = build_config(export, directory, today)
    if not result.config["rotations"] and not result.config.get("escalation_policies"):
        problems = ["nothing could be imported:"] + [f"  {n.render()}" for n in result.notes]
        if not directory.slack_ids:
            problems.append("no Slack ids known: pass --users users.csv or set SLACK_BOT_TOKEN to look people up "
                            "with users.lookupByEmail")
        raise ImportFailed(problems)
    data = _merge(existing, result.config)
    text = _header(export.vendor, source, result) + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    try:
        # Check the text itself, as `config check` will read it, not the data it was made from.
        parse_config(yaml.safe_load(text), str(existing or "firewatch.yaml"))
    except ConfigError as exc:
        raise ImportFailed(["the imported configuration does not pass config check:"]
                           + [f"  {p}" for p in exc.problems]) from None
    return Outcome(export, result, text, result.notes)


def _merge(existing: str | Path | None, imported: dict[str, Any]) -> dict[str, Any]:
    if existing is None or not Path(existing).exists():
        return dict(imported)
    try:
        data = yaml.safe_load(Path(existing).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ImportFailed([f"{existing}: cannot read the existing configuration to merge into ({exc})"]) from None
    if not isinstance(data, dict):
        raise ImportFailed([f"{existing}: not a YAML mapping; cannot merge into it"])
    clashes = []
    for section in ("rotations", "escalation_policies"):
        have = {item.get("name") for item in data.get(section) or [] if isinstance(item, dict)}
        for item in imported.get(section, []):
            if item["name"] in have:
                clashes.append(f"{section}: {item['name']!r} already exists in {existing}")
        data[section] = list(data.get(section) or []) + list(imported.get(section, []))
    if clashes:
        raise ImportFailed(clashes + ["rename or remove them there, or write to another --out"])
    return data


def _header(vendor: str, source: str, result: ImportResult) -> str:
    lines = [f"# Imported from {vendor} ({source}) by `firewatch import`.", "#"]
    if result.overrides:
        lines.append("# Overrides (firewatch.yaml holds none; `--apply-overrides` stores them in the database):")
        lines += [f"#   {rot}: {user} from {s.isoformat()} to {e.isoformat()}" for rot, user, s, e in result.overrides]
        lines.append("#")
    if result.notes:
        lines.append("# Not mapped exactly:")
        lines += [f"#   {n.render()}" for n in result.notes]
        lines.append("#")
    return "\n".join(lines) + "\n"


def write_config(outcome: Outcome, out: str | Path) -> Path:
    path = Path(out)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(outcome.text, encoding="utf-8")
        tmp.replace(path)  # never leave a half-written configuration behind
    except OSError as exc:
        raise ImportFailed([f"{path}: cannot write ({exc.strerror}); nothing was written"]) from None
    return path


def run_audit(outcome: Outcome, *, start: date, months: int, chart: str | Path,
              progress: Callable[[str], None] = lambda _: None) -> tuple[list[Audit], Path]:
    """Expand each imported schedule over `months` from `start` and compare it with Firewatch's plan."""
    config = parse_config(yaml.safe_load(outcome.text))
    audits = []
    for mapped in outcome.result.schedules:
        rotation = config.rotation(mapped.rotations[0])
        # The whole team of the schedule: everyone on any of its layers, so both sides spread the same people.
        others = [m for name in mapped.rotations[1:] for m in config.rotation(name).members]
        members = list(rotation.members)
        for m in others:
            if all(x.user != m.user for x in members):
                members.append(m)
        team = rotation.model_copy(update={"members": members})
        tz = zone(team.timezone)
        begin = to_aware(start, tz)
        finish = to_aware(_add_months(start, months), tz)
        overrides = [Override(user, s, e) for rot, user, s, e in outcome.result.overrides if rot == team.name]
        progress(f"auditing {mapped.schedule.name!r}: expanding by the vendor's rules and planning "
                 f"{start} to {_add_months(start, months)}")
        audits.append(audit(mapped, team, overrides, begin, finish))
    if not audits:
        raise ImportFailed(["no schedule was imported, so there is nothing to audit"])
    try:
        path = draw_chart(audits, Path(chart))
    except OSError as exc:
        raise ImportFailed([f"{chart}: cannot write the audit chart ({exc.strerror})"]) from None
    return audits, path


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, 28))


__all__ = ["ImportFailed", "Outcome", "import_export", "lookup_by_email", "merge_directories", "read_calendar",
           "read_export", "read_users_csv", "run_audit", "write_config"]


@dataclass(frozen=True)
class OverridesApplied:
    added: int
    already_there: int
    past: int  # ended before now: history, not worth storing


def apply_overrides(engine: Any, outcome: Outcome, *, now: datetime) -> OverridesApplied:
    """Store the vendor's future overrides as Firewatch overrides (primary role), once each."""
    from bot.importers import store
    from storage.db import session_scope

    added = already = past = 0
    with session_scope(engine) as s:
        for rotation, user, start, end in outcome.result.overrides:
            if end <= now:
                past += 1
            elif store.has_override(s, rotation, user, start, end):
                already += 1
            else:
                store.add_override(s, rotation, user, start, end)
                added += 1
    return OverridesApplied(added, already, past)
