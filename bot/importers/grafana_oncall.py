"""Grafana OnCall HTTP API v1 exports: schedules, on-call shifts, escalation chains and policies, integrations.

Accepted: the paginated `{"results": [...]}` responses (or single objects) of `/api/v1/schedules/`,
`/api/v1/on_call_shifts/`, `/api/v1/escalation_chains/`, `/api/v1/escalation_policies/`,
`/api/v1/integrations/` and `/api/v1/users/`. Grafana OnCall's documented semantics used here: a shift's
`start` is wall-clock time in its `time_zone` (default: the schedule's); it recurs every `interval` x
`frequency`, on the `by_day` days for weekly shifts, each occurrence lasting `duration` seconds;
`rolling_users` groups take turns per recurrence period, starting at `start_rotation_from_user_index`; a
higher `level` wins where shifts overlap, and `override` shifts win over all. Escalation policies run in
`position` order; `wait` adds its `duration` to the wait after the step before it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
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

VENDOR = "grafana-oncall"
_BY_DAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FREQ = {"hourly": timedelta(hours=1), "daily": timedelta(days=1), "weekly": timedelta(weeks=1)}


def parse(documents: list[tuple[str, Any]]) -> VendorExport:
    export = VendorExport(VENDOR)
    schedules, shifts, chains, steps, integrations = [], {}, {}, [], []
    for _name, document in documents:
        for _key, obj in objects(document):
            if "escalation_chain_id" in obj and "position" in obj:
                steps.append(obj)
            elif "default_route" in obj:
                integrations.append(obj)
            elif "rolling_users" in obj or obj.get("type") in ("single_event", "recurrent_event", "rolling_users",
                                                                 "override"):
                shifts[obj.get("id")] = obj
            elif "shifts" in obj or "ical_url_primary" in obj:
                schedules.append(obj)
            elif "email" in obj and "username" in obj:
                slack = next((s.get("user_id") for s in obj.get("slack") or [] if isinstance(s, dict)), None)
                export.people[obj["id"]] = Person(obj["id"], obj["email"], obj.get("username"), obj.get("timezone"),
                                                  slack)
            elif set(obj) >= {"id", "name"} and "team_id" in obj and "type" not in obj:
                chains[obj["id"]] = obj["name"]
    if not schedules and not steps:
        raise UnreadableExport("no Grafana OnCall schedules or escalation policies found; export /api/v1/schedules/, "
                               "/api/v1/on_call_shifts/ and /api/v1/escalation_policies/")
    names = {}
    for obj in schedules:
        schedule = _schedule(obj, shifts, export)
        names[obj.get("id")] = schedule.name
        export.schedules.append(schedule)
    by_chain: dict[str, list[dict]] = {}
    for obj in steps:
        by_chain.setdefault(obj["escalation_chain_id"], []).append(obj)
    for chain_id, items in by_chain.items():
        export.policies.append(_policy(chains.get(chain_id, chain_id), sorted(items, key=lambda o: o["position"]),
                                       names, export))
    for obj in integrations:
        chain = (obj.get("default_route") or {}).get("escalation_chain_id")
        export.notes.append(Note(f"integration {obj.get('name')!r}",
                                 f"({obj.get('type')}) routes to escalation chain {chains.get(chain, chain)!r}: point "
                                 "its sender at /webhooks/alertmanager or /webhooks/grafana and add an alert_routes "
                                 "entry for that policy (label matching differs from Grafana's routes)"))
    return export


def _schedule(obj: dict, shifts: dict, export: VendorExport) -> Schedule:
    name = obj.get("name") or obj.get("id") or "schedule"
    tz = known_zone(obj.get("time_zone")) or "UTC"
    schedule = Schedule(name, tz)
    if obj.get("type") == "ical" or obj.get("ical_url_primary"):
        export.notes.append(Note(f"schedule {name!r}", "its shifts live in an iCal feed: import that with "
                                                      "`firewatch import ical URL --rotation NAME`"))
    for shift_id in obj.get("shifts") or []:
        raw = shifts.get(shift_id)
        if raw is None:
            export.notes.append(Note(f"schedule {name!r}", f"shift {shift_id} is not in the export; skipped"))
            continue
        _shift(schedule, raw, export)
    return schedule


def _shift(schedule: Schedule, raw: dict, export: VendorExport) -> None:
    sname = raw.get("name") or raw.get("id")
    where = f"schedule {schedule.name!r} shift {sname!r}"
    tz = known_zone(raw.get("time_zone")) or schedule.timezone
    start = parse_iso(raw["start"], f"{where} start")
    local = start.astimezone(zone(tz)).replace(tzinfo=None) if start.tzinfo else start
    duration = timedelta(seconds=int(raw.get("duration") or 0))
    level = int(raw.get("level") or 0)
    kind = raw.get("type")
    until = parse_iso(raw["until"], f"{where} until") if raw.get("until") else None
    aware_start = _aware(local, tz)
    if kind == "override":
        for user in (raw.get("users") or [])[:1]:
            schedule.overrides.append(CoverOverride(schedule.name, user, aware_start, _aware(local + duration, tz)))
        return
    if kind == "single_event":
        users = tuple((raw.get("users") or [])[:1])
        schedule.layers.append(Layer(schedule.name, sname, tz, local, duration, users, level, aware_start,
                                     _aware(local + duration, tz)))
        return
    if kind == "rolling_users":
        groups = [g for g in raw.get("rolling_users") or [] if g]
        if any(len(g) > 1 for g in groups):
            export.notes.append(Note(where, "groups of several people on call together: Firewatch has one primary "
                                            "(and an optional secondary); the first of each group was used"))
        users = tuple(g[0] for g in groups)
        offset = int(raw.get("start_rotation_from_user_index") or 0) % max(1, len(users))
        users = users[offset:] + users[:offset]
    else:
        users = tuple((raw.get("users") or [])[:1])
        if len(raw.get("users") or []) > 1:
            export.notes.append(Note(where, "several people on every occurrence; the first was used"))
    freq = raw.get("frequency")
    unit = _FREQ.get(freq)
    if unit is None:
        export.notes.append(Note(where, f"frequency {freq!r} has no Firewatch equivalent; not imported"))
        return
    step = unit * int(raw.get("interval") or 1)
    windows: tuple[Window, ...] = ()
    days = [d for d in raw.get("by_day") or [] if d in _BY_DAY]
    if days and freq in ("weekly", "daily"):
        windows = tuple(Window(local.time(), duration, _BY_DAY.index(d)) for d in days)
    elif duration < step:
        windows = (Window(local.time(), duration, None if freq == "daily" else local.weekday()),)
    if raw.get("by_month") or raw.get("by_monthday"):
        export.notes.append(Note(where, "by_month / by_monthday recurrences are not expanded"))
    schedule.layers.append(Layer(schedule.name, sname, tz, local, step, users, level, aware_start,
                                 _aware(until, tz) if until else None, windows))


def _aware(value: datetime, tz: str) -> datetime:
    if value.tzinfo is not None:
        return value
    from bot.rotations.domain.timeline import resolve_wall_time

    return resolve_wall_time(value, zone(tz))


def _policy(name: str, items: list[dict], schedules: dict, export: VendorExport) -> Policy:
    steps: list[Step] = []
    repeat = 1
    where = f"escalation chain {name!r}"
    for item in items:
        kind = item.get("type")
        if kind == "wait":
            if steps:
                last = steps[-1]
                steps[-1] = Step(last.kind, last.key, last.timeout + timedelta(seconds=int(item.get("duration") or 0)))
            continue
        if kind in ("notify_persons", "notify_person_next_each_time"):
            people = item.get("persons_to_notify") or item.get("persons_to_notify_next_each_time") or []
            if len(people) > 1:
                export.notes.append(Note(f"{where} position {item['position']}",
                                         f"{kind} with {len(people)} people: Firewatch pages one per step; the first "
                                         "was kept"))
            if people:
                steps.append(Step("user", people[0], timedelta(0)))
        elif kind == "notify_on_call_from_schedule":
            target = item.get("notify_on_call_from_schedule")
            steps.append(Step("schedule", schedules.get(target, target), timedelta(0)))
        elif kind == "repeat_escalation":
            # Grafana repeats a chain at most 5 times.
            repeat = 6
            export.notes.append(Note(f"{where} position {item['position']}", "repeat_escalation: Grafana repeats up "
                                     "to 5 times; repeat: 6 (the first pass plus 5)"))
        else:
            export.notes.append(Note(f"{where} position {item['position']}", f"step type {kind!r} has no Firewatch "
                                                                              "equivalent; dropped"))
    return Policy(name, steps, repeat)
