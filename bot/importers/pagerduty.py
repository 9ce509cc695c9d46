"""PagerDuty REST API v2 exports: schedules (layers, restrictions, overrides), escalation policies, users.

Accepted: the responses of `GET /schedules[/{id}]`, `GET /schedules/{id}/overrides`, `GET /escalation_policies`
and `GET /users`, in one file or a directory of files. PagerDuty's documented semantics used here: a layer's
turns start at `rotation_virtual_start` and last `rotation_turn_length_seconds`, handing off at the same local
time in the schedule's `time_zone` across DST; users take turns in list order; restrictions (`daily_restriction`,
`weekly_restriction` with ISO `start_day_of_week`, 1 = Monday) limit when the layer's person is on call; a layer
later in `schedule_layers` sits above the earlier ones (an explicit `priority`, where present, wins);
overrides sit above every layer. An escalation rule's `escalation_delay_in_minutes` is its wait before the
next rule; `num_loops` extra passes make Firewatch's `repeat`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
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

VENDOR = "pagerduty"


def _clock(value: str) -> time:
    text = str(value).rstrip("Z")
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise UnreadableExport(f"restriction start_time_of_day {value!r} is not HH:MM:SS") from None


def _restriction(item: dict, where: str, notes: list[Note]) -> Window | None:
    kind = item.get("type")
    duration = timedelta(seconds=int(item.get("duration_seconds") or 0))
    if duration <= timedelta(0):
        notes.append(Note(where, f"restriction without a duration ignored: {item}"))
        return None
    start = _clock(item.get("start_time_of_day", "00:00:00"))
    if kind == "daily_restriction":
        return Window(start, duration)
    if kind == "weekly_restriction":
        day = int(item.get("start_day_of_week") or 1)
        return Window(start, duration, (day - 1) % 7)
    notes.append(Note(where, f"unknown restriction type {kind!r} ignored"))
    return None


def _user_key(ref: Any) -> str | None:
    if isinstance(ref, dict):
        inner = ref.get("user") if isinstance(ref.get("user"), dict) else ref
        return inner.get("id")
    return None


def parse(documents: list[tuple[str, Any]]) -> VendorExport:
    export = VendorExport(VENDOR)
    loose_overrides: list[dict] = []
    raw_schedules: list[dict] = []
    for _name, document in documents:
        for key, obj in objects(document):
            if "schedule_layers" in obj:
                raw_schedules.append(obj)
            elif "escalation_rules" in obj:
                export.policies.append(_policy(obj, export.notes))
            elif key in ("overrides", "override") or (obj.get("type") == "override"):
                loose_overrides.append(obj)
            elif key in ("users", "user") or obj.get("type") == "user":
                if obj.get("id"):
                    export.people[obj["id"]] = Person(obj["id"], obj.get("email"), obj.get("name") or obj.get("summary"),
                                                      obj.get("time_zone"))
    if not raw_schedules and not export.policies:
        raise UnreadableExport("no PagerDuty schedules (schedule_layers) or escalation policies (escalation_rules) "
                               "found; export GET /schedules/{id} and GET /escalation_policies")
    for obj in raw_schedules:
        export.schedules.append(_schedule(obj, export))
    names = {raw.get("id"): s.name for raw, s in zip(raw_schedules, export.schedules)}
    for policy in export.policies:
        policy.steps = [Step(s.kind, names.get(s.key, s.key), s.timeout) if s.kind == "schedule" else s
                        for s in policy.steps]
    for obj in loose_overrides:
        target = (obj.get("schedule") or {}).get("id") if isinstance(obj.get("schedule"), dict) else None
        schedule = next((s for s, raw in zip(export.schedules, raw_schedules) if raw.get("id") == target), None)
        if schedule is None and len(export.schedules) == 1:
            schedule = export.schedules[0]
        if schedule is None:
            export.notes.append(Note(f"override {obj.get('id', '?')}",
                                     "cannot tell which schedule it belongs to (export one schedule per file)"))
            continue
        _add_override(schedule, obj, export.notes)
    return export


def _schedule(obj: dict, export: VendorExport) -> Schedule:
    name = obj.get("name") or obj.get("summary") or obj.get("id") or "schedule"
    tz = known_zone(obj.get("time_zone"))
    if tz is None:
        export.notes.append(Note(f"schedule {name!r}", f"time zone {obj.get('time_zone')!r} unknown; used UTC"))
        tz = "UTC"
    schedule = Schedule(name, tz)
    for user in obj.get("users") or []:
        if isinstance(user, dict) and user.get("id") and user["id"] not in export.people:
            export.people[user["id"]] = Person(user["id"], user.get("email"), user.get("summary") or user.get("name"))
    layers = obj.get("schedule_layers") or []
    for index, raw in enumerate(layers):
        layer_name = raw.get("name") or f"Layer {index + 1}"
        where = f"schedule {name!r} layer {layer_name!r}"
        virtual = parse_iso(raw.get("rotation_virtual_start") or raw.get("start"), f"{where} rotation_virtual_start")
        anchor = virtual.astimezone(_zone(tz)).replace(tzinfo=None) if virtual.tzinfo else virtual
        step = timedelta(seconds=int(raw.get("rotation_turn_length_seconds") or 0))
        if step <= timedelta(0):
            export.notes.append(Note(where, "no rotation_turn_length_seconds; not imported"))
            continue
        windows = tuple(w for r in raw.get("restrictions") or [] if (w := _restriction(r, where, export.notes)))
        users = tuple(_user_key(u) for u in raw.get("users") or [])
        start = parse_iso(raw["start"], f"{where} start") if raw.get("start") else None
        end = parse_iso(raw["end"], f"{where} end") if raw.get("end") else None
        priority = int(raw["priority"]) if isinstance(raw.get("priority"), int) else index
        schedule.layers.append(Layer(name, layer_name, tz, anchor, step, users, priority, _aware(start, tz),
                                     _aware(end, tz), windows))
    sub = obj.get("overrides_subschedule") or {}
    for entry in sub.get("rendered_schedule_entries") or []:
        _add_override(schedule, entry, export.notes)
    return schedule


def _add_override(schedule: Schedule, obj: dict, notes: list[Note]) -> None:
    user = _user_key(obj.get("user"))
    if not (user and obj.get("start") and obj.get("end")):
        notes.append(Note(f"schedule {schedule.name!r} override", f"incomplete override ignored: {obj}"))
        return
    start = _aware(parse_iso(obj["start"], "override start"), schedule.timezone)
    end = _aware(parse_iso(obj["end"], "override end"), schedule.timezone)
    schedule.overrides.append(CoverOverride(schedule.name, user, start, end))


def _policy(obj: dict, notes: list[Note]) -> Policy:
    name = obj.get("name") or obj.get("summary") or obj.get("id") or "policy"
    steps: list[Step] = []
    for i, rule in enumerate(obj.get("escalation_rules") or []):
        where = f"escalation policy {name!r} rule {i + 1}"
        delay = timedelta(minutes=int(rule.get("escalation_delay_in_minutes") or 0))
        targets = rule.get("targets") or []
        mapped = False
        for t in targets:
            kind = str(t.get("type", ""))
            if kind.startswith("schedule"):
                step = Step("schedule", t.get("id") or t.get("summary"), delay)
            elif kind.startswith("user"):
                step = Step("user", t.get("id"), delay)
            else:
                notes.append(Note(where, f"target type {kind!r} has no Firewatch equivalent; dropped"))
                continue
            if mapped:
                notes.append(Note(where, f"several targets at once: Firewatch pages one per step; "
                                         f"{t.get('summary') or t.get('id')} dropped"))
                continue
            steps.append(step)
            mapped = True
        if not mapped:
            steps.append(Step("dropped", "", delay))
    loops = int(obj.get("num_loops") or 0)
    return Policy(name, steps, 1 + loops)


def _zone(tz: str):
    from bot.rotations.domain.config import zone

    return zone(tz)


def _aware(value: datetime | None, tz: str) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=_zone(tz))
