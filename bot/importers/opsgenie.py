"""Opsgenie REST API v2 exports: schedules (rotations, time restrictions), overrides, escalations.

Accepted: `GET /v2/schedules/{id}` (or the list with `expand=rotation`), `GET /v2/schedules/{id}/overrides`
and `GET /v2/escalations`, each `{"data": ...}`. Opsgenie's documented semantics used here: a rotation of
`type` hourly/daily/weekly and `length` N hands off every N units from `startDate`, at the same local time
in the schedule's `timezone`; participants take turns in order (`none` is a gap); `timeRestriction` limits
the hours (`time-of-day`: one daily window; `weekday-and-time-of-day`: windows from a start day/time to an
end day/time). An escalation rule's `delay` counts from the alert's creation, so a step's wait is the gap to
the next rule; `repeat.count` extra passes make Firewatch's `repeat`.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from bot.importers._documents import objects
from bot.importers.domain import (
    CoverOverride,
    Layer,
    Note,
    Person,
    Policy,
    Schedule,
    Step,
    UnreadableExport,
    VendorExport,
    Window,
    known_zone,
    parse_iso,
)
from bot.rotations.domain.config import zone

VENDOR = "opsgenie"
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNITS = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}
_TIME_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
DEFAULT_LAST_WAIT = timedelta(minutes=5)


def _windows(restriction: dict | None, where: str, notes: list[Note]) -> tuple[Window, ...]:
    if not restriction:
        return ()
    kind = restriction.get("type")
    if kind == "time-of-day":
        r = restriction.get("restriction") or {}
        start = time(int(r.get("startHour", 0)), int(r.get("startMin", 0)))
        minutes = int(r.get("endHour", 0)) * 60 + int(r.get("endMin", 0)) - (start.hour * 60 + start.minute)
        return (Window(start, timedelta(minutes=minutes % 1440 or 1440)),)
    if kind == "weekday-and-time-of-day":
        out = []
        for r in restriction.get("restrictions") or []:
            try:
                first, last = _DAYS.index(str(r["startDay"]).lower()), _DAYS.index(str(r["endDay"]).lower())
            except (KeyError, ValueError):
                notes.append(Note(where, f"time restriction with unknown days ignored: {r}"))
                continue
            start = time(int(r.get("startHour", 0)), int(r.get("startMin", 0)))
            minutes = ((last - first) * 1440 + int(r.get("endHour", 0)) * 60 + int(r.get("endMin", 0))
                       - (start.hour * 60 + start.minute))
            out.append(Window(start, timedelta(minutes=minutes % (7 * 1440) or 7 * 1440), first))
        return tuple(out)
    notes.append(Note(where, f"time restriction type {kind!r} unknown; ignored"))
    return ()


def _participant(p: dict, export: VendorExport, where: str) -> str | None:
    kind = p.get("type")
    if kind == "user" and (p.get("username") or p.get("id")):
        key = (p.get("username") or p["id"]).lower()
        export.people.setdefault(key, Person(key, key if "@" in key else None, p.get("fullName")))
        return key
    if kind != "none":
        export.notes.append(Note(where, f"participant of type {kind!r} ({p.get('name') or p.get('id')}) has no "
                                        "Firewatch equivalent; its turns are left as gaps"))
    return None


def parse(documents: list[tuple[str, Any]]) -> VendorExport:
    export = VendorExport(VENDOR)
    raw_schedules: list[dict] = []
    raw_overrides: list[dict] = []
    raw_policies: list[dict] = []
    for _name, document in documents:
        for _key, obj in objects(document):
            if "rotations" in obj and "timezone" in obj:
                raw_schedules.append(obj)
            elif "rules" in obj and isinstance(obj.get("rules"), list):
                raw_policies.append(obj)
            elif "alias" in obj and "startDate" in obj:
                raw_overrides.append(obj)
            elif obj.get("username"):
                key = obj["username"].lower()
                export.people[key] = Person(key, key, obj.get("fullName"), (obj.get("timeZone")))
    if not raw_schedules and not raw_policies:
        raise UnreadableExport("no Opsgenie schedules (rotations) or escalations (rules) found; export "
                               "GET /v2/schedules/{id} and GET /v2/escalations")
    for obj in raw_schedules:
        export.schedules.append(_schedule(obj, export))
    by_id = {raw.get("id"): s for raw, s in zip(raw_schedules, export.schedules)}
    for obj in raw_overrides:
        parent = obj.get("_parent") or {}
        schedule = by_id.get(parent.get("id")) or next((s for s in export.schedules if s.name == parent.get("name")), None)
        if schedule is None and len(export.schedules) == 1:
            schedule = export.schedules[0]
        where = f"override {obj.get('alias')}"
        if schedule is None:
            export.notes.append(Note(where, "cannot tell which schedule it belongs to (no _parent)"))
            continue
        user = _participant(obj.get("user") or {}, export, where)
        if user is None:
            continue
        if obj.get("rotations"):
            export.notes.append(Note(where, "limited to some rotations; Firewatch overrides cover the rotation"))
        tz = zone(schedule.timezone)
        start, end = parse_iso(obj["startDate"], f"{where} startDate"), parse_iso(obj["endDate"], f"{where} endDate")
        schedule.overrides.append(CoverOverride(schedule.name, user, start if start.tzinfo else start.replace(tzinfo=tz),
                                                end if end.tzinfo else end.replace(tzinfo=tz)))
    names = {raw.get("id"): s.name for raw, s in zip(raw_schedules, export.schedules)}
    for obj in raw_policies:
        export.policies.append(_policy(obj, names, export))
    return export


def _schedule(obj: dict, export: VendorExport) -> Schedule:
    name = obj.get("name") or obj.get("id") or "schedule"
    tz = known_zone(obj.get("timezone")) or "UTC"
    if tz != obj.get("timezone"):
        export.notes.append(Note(f"schedule {name!r}", f"time zone {obj.get('timezone')!r} unknown; used UTC"))
    schedule = Schedule(name, tz)
    rotations = obj.get("rotations") or []
    for index, raw in enumerate(rotations):
        rname = raw.get("name") or f"Rotation {index + 1}"
        where = f"schedule {name!r} rotation {rname!r}"
        unit = _UNITS.get(str(raw.get("type")))
        if unit is None:
            export.notes.append(Note(where, f"rotation type {raw.get('type')!r} unknown; not imported"))
            continue
        start = parse_iso(raw["startDate"], f"{where} startDate")
        start = start if start.tzinfo else start.replace(tzinfo=zone(tz))
        end = parse_iso(raw["endDate"], f"{where} endDate") if raw.get("endDate") else None
        if end is not None and end.tzinfo is None:
            end = end.replace(tzinfo=zone(tz))
        users = tuple(_participant(p, export, where) for p in raw.get("participants") or [])
        schedule.layers.append(Layer(
            name, rname, tz, start.astimezone(zone(tz)).replace(tzinfo=None), unit * int(raw.get("length") or 1),
            users, priority=len(rotations) - index, start=start, end=end,
            windows=_windows(raw.get("timeRestriction"), where, export.notes)))
    return schedule


def _policy(obj: dict, schedules: dict, export: VendorExport) -> Policy:
    name = obj.get("name") or obj.get("id") or "escalation"
    rules = obj.get("rules") or []
    delays = []
    for rule in rules:
        d = rule.get("delay") or {}
        delays.append(timedelta(seconds=int(d.get("timeAmount") or 0) * _TIME_UNITS.get(d.get("timeUnit", "minutes"), 60)))
    repeat = obj.get("repeat") or {}
    last_wait = timedelta(minutes=int(repeat.get("waitInterval") or 0)) or DEFAULT_LAST_WAIT
    steps: list[Step] = []
    for i, rule in enumerate(rules):
        where = f"escalation {name!r} rule {i + 1}"
        wait = (delays[i + 1] - delays[i]) if i + 1 < len(rules) else last_wait
        if rule.get("condition") == "if-not-closed":
            export.notes.append(Note(where, "condition if-not-closed: Firewatch escalates until acknowledged"))
        if rule.get("notifyType") not in (None, "default", "all"):
            export.notes.append(Note(where, f"notifyType {rule.get('notifyType')!r}: Firewatch pages the rotation's "
                                            "current primary"))
        recipient = rule.get("recipient") or {}
        kind = recipient.get("type")
        if kind == "schedule":
            steps.append(Step("schedule", schedules.get(recipient.get("id"), recipient.get("name")), wait))
        elif kind == "user":
            key = (recipient.get("username") or recipient.get("id") or "").lower()
            export.people.setdefault(key, Person(key, key if "@" in key else None))
            steps.append(Step("user", key, wait))
        else:
            export.notes.append(Note(where, f"recipient type {kind!r} ({recipient.get('name')}) has no Firewatch "
                                            "equivalent; dropped"))
            steps.append(Step("dropped", "", wait))
    if rules and i + 1 == len(rules) and not repeat.get("waitInterval"):
        export.notes.append(Note(f"escalation {name!r}", f"the last rule has no wait in Opsgenie; used "
                                                          f"{int(DEFAULT_LAST_WAIT.total_seconds() // 60)}m"))
    return Policy(name, steps, 1 + int(repeat.get("count") or 0))
