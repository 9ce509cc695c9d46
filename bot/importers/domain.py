"""Vendor-neutral shape of an on-call export, and its mapping to Firewatch configuration.

Each vendor module (`pagerduty`, `opsgenie`, `grafana_oncall`, `ical`) turns that vendor's JSON into a
`VendorExport`; `build_config` turns the export into `firewatch.yaml` sections plus a list of `Note`s for
everything that has no Firewatch equivalent. Pure: no Slack, database or storage imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.core.durations import format_duration
from bot.core.slugs import slugify
from bot.rotations.domain.config import zone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Shift lengths Firewatch accepts (bot.rotations.domain.config.parse_length): hours that divide a day, days, weeks.
_HOUR_LENGTHS = (1, 2, 3, 4, 6, 8, 12)


class UnreadableExport(ValueError):
    """The export cannot be read at all (not JSON, wrong vendor, nothing to import); the message says why."""


@dataclass(frozen=True)
class Note:
    """One thing that could not be mapped exactly, and why (printed by a dry run, kept in the output header)."""

    item: str
    reason: str

    def render(self) -> str:
        return f"{self.item}: {self.reason}"


@dataclass(frozen=True)
class Person:
    """A vendor user. `key` is how the vendor's schedules refer to them (id, username or e-mail)."""

    key: str
    email: str | None = None
    name: str | None = None
    timezone: str | None = None
    slack_id: str | None = None  # when the vendor already knows it (Grafana OnCall links Slack accounts)


@dataclass(frozen=True)
class Window:
    """A restriction: the layer is on call only inside these local wall-clock windows.

    `weekday` None means every day; otherwise the window starts on that weekday (0 = Monday).
    """

    start: time
    duration: timedelta
    weekday: int | None = None

    def describe(self) -> str:
        day = "daily" if self.weekday is None else WEEKDAYS[self.weekday]
        return f"{day} from {self.start:%H:%M} for {format_duration(self.duration)}"


@dataclass(frozen=True)
class Layer:
    """One rotation of a vendor schedule, with the vendor's own rules for expanding it.

    Turn k runs from `anchor + k * step` to `anchor + (k + 1) * step` as wall-clock times in `timezone`
    (all three vendors keep handoffs at the same local time across DST) and belongs to `users[k % n]`;
    a None user is a deliberate gap. With `windows`, the turn's person is on call only inside them.
    """

    schedule: str
    name: str
    timezone: str
    anchor: datetime  # naive, wall clock in `timezone`
    step: timedelta  # wall-clock length of one turn
    users: tuple[str | None, ...]
    priority: int = 0  # higher wins where layers overlap
    start: datetime | None = None  # aware; the layer is inactive before
    end: datetime | None = None  # aware; and from here on
    windows: tuple[Window, ...] = ()


@dataclass(frozen=True)
class CoverOverride:
    """Someone covers [start, end) on a schedule regardless of the layers underneath."""

    schedule: str
    user: str
    start: datetime
    end: datetime


@dataclass
class Schedule:
    name: str
    timezone: str
    layers: list[Layer] = field(default_factory=list)
    overrides: list[CoverOverride] = field(default_factory=list)
    # Shifts as recorded (a calendar feed): when set, the audit replays these instead of the layers' rules.
    recorded: list[CoverOverride] = field(default_factory=list)


@dataclass(frozen=True)
class Step:
    """An escalation step: page a schedule (`kind="schedule"`, `key` its name) or a person (their key)."""

    kind: str
    key: str
    timeout: timedelta


@dataclass
class Policy:
    name: str
    steps: list[Step]
    repeat: int = 1


@dataclass
class VendorExport:
    """Everything read from one vendor's export, before Slack ids are known."""

    vendor: str
    schedules: list[Schedule] = field(default_factory=list)
    policies: list[Policy] = field(default_factory=list)
    people: dict[str, Person] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)

    def emails(self) -> list[str]:
        """E-mails of everyone the schedules and policies mention, in first-seen order."""
        keys: list[str] = []
        for schedule in self.schedules:
            for layer in schedule.layers:
                keys.extend(u for u in layer.users if u)
            keys.extend(o.user for o in schedule.overrides)
        for policy in self.policies:
            keys.extend(s.key for s in policy.steps if s.kind == "user")
        seen: list[str] = []
        for key in keys:
            email = self.email_of(key)
            if email and email not in seen:
                seen.append(email)
        return seen

    def email_of(self, key: str) -> str | None:
        person = self.people.get(key)
        if person and person.email:
            return person.email.lower()
        return key.lower() if "@" in key else None


@dataclass(frozen=True)
class Directory:
    """What is known about a person on the Firewatch side, by lower-cased e-mail."""

    slack_ids: dict[str, str]
    countries: dict[str, str] = field(default_factory=dict)
    timezones: dict[str, str] = field(default_factory=dict)


@dataclass
class MappedSchedule:
    """A vendor schedule and the Firewatch rotations made from it (the first is the one policies page)."""

    schedule: Schedule
    rotations: list[str]
    slack_of: dict[str, str]  # vendor person key -> Slack id, for this export


@dataclass
class ImportResult:
    config: dict[str, Any]  # the `rotations:` and `escalation_policies:` sections, ready for YAML
    notes: list[Note]
    schedules: list[MappedSchedule]
    overrides: list[tuple[str, str, datetime, datetime]]  # (rotation, Slack id, start, end)


# ---------------------------------------------------------------------------------------------------------
# Mapping helpers


def parse_iso(value: str, what: str) -> datetime:
    """ISO-8601 as the vendors write it (`Z` or an offset; naive stays naive)."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise UnreadableExport(f"{what}: {value!r} is not an ISO-8601 date-time") from None


def known_zone(name: str | None) -> str | None:
    if not name:
        return None
    try:
        zone(name)
    except ValueError:
        return None
    return name


def shift_length(step: timedelta) -> tuple[str, str | None]:
    """Firewatch `shift.length` for a vendor turn, and why it is only approximate (None when exact)."""
    seconds = int(step.total_seconds())
    if seconds > 0 and seconds % (7 * 86400) == 0 and seconds // (7 * 86400) <= 8:
        return f"{seconds // (7 * 86400)}w", None
    if seconds > 0 and seconds % 86400 == 0 and seconds // 86400 <= 56:
        return f"{seconds // 86400}d", None
    if seconds > 0 and seconds % 3600 == 0 and seconds // 3600 in _HOUR_LENGTHS:
        return f"{seconds // 3600}h", None
    hours = seconds / 3600
    if hours < 24:
        nearest = min(_HOUR_LENGTHS, key=lambda h: abs(h - hours))
        return f"{nearest}h", f"a turn of {format_duration(step)} is not a Firewatch shift length; used {nearest}h"
    days = min(56, max(1, round(hours / 24)))
    return f"{days}d", f"a turn of {format_duration(step)} is not a Firewatch shift length; used {days}d"


def rotation_name(schedule: str, layer: str | None, taken: set[str]) -> str:
    base = slugify(schedule, 40, fallback="imported")
    if layer:
        base = slugify(f"{schedule} {layer}", 40, fallback=base)
    name, n = base, 2
    while name in taken:
        suffix = f"-{n}"
        name, n = base[: 40 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def first_handoff_on_or_after(layer: Layer, day: date) -> datetime:
    """The first turn boundary (naive wall clock) on or after local midnight of `day`."""
    target = datetime.combine(day, time())
    if layer.anchor >= target:
        return layer.anchor
    turns = (target - layer.anchor) // layer.step
    boundary = layer.anchor + turns * layer.step
    return boundary if boundary >= target else boundary + layer.step


def base_layer(schedule: Schedule) -> Layer | None:
    """The layer policies page: the lowest-priority unrestricted layer (the 24/7 base), else the first."""
    unrestricted = [layer for layer in schedule.layers if not layer.windows]
    pool = unrestricted or schedule.layers
    return min(pool, key=lambda layer: layer.priority) if pool else None


def build_config(export: VendorExport, directory: Directory, today: date) -> ImportResult:
    """Firewatch `rotations` and `escalation_policies` for an export, plus a note for each inexact item."""
    mapping = _Mapping(export, directory, today)
    for schedule in export.schedules:
        mapping.add_schedule(schedule)
    policies = [entry for policy in export.policies if (entry := mapping.policy(policy))]
    config: dict[str, Any] = {"rotations": mapping.rotations}
    if policies:
        config["escalation_policies"] = policies
    return ImportResult(config, mapping.notes, mapping.mapped, mapping.overrides)


class _Mapping:
    """What one import has mapped so far: people to Slack ids, schedules to rotations, and the notes."""

    def __init__(self, export: VendorExport, directory: Directory, today: date):
        self.export, self.directory, self.today = export, directory, today
        self.notes = list(export.notes)
        self.slack_of: dict[str, str] = {}
        self.unmapped: set[str] = set()
        self.rotations: list[dict[str, Any]] = []
        self.mapped: list[MappedSchedule] = []
        self.overrides: list[tuple[str, str, datetime, datetime]] = []
        self.schedule_rotation: dict[str, str] = {}
        self.taken: set[str] = set()
        self.taken_policies: set[str] = set()

    def slack_id(self, key: str, where: str) -> str | None:
        """The Slack id for a vendor user key; the first miss is noted once."""
        if key in self.slack_of:
            return self.slack_of[key]
        email = self.export.email_of(key)
        found = self.directory.slack_ids.get(email or key.lower())
        person = self.export.people.get(key)
        found = found or (person.slack_id if person else None)
        if found:
            self.slack_of[key] = found
        elif key not in self.unmapped:
            self.unmapped.add(key)
            who = email or key
            self.notes.append(Note(where, f"no Slack user for {who}: add it to users.csv or check the e-mail in "
                                          "Slack; left out"))
        return found

    def add_schedule(self, schedule: Any) -> None:
        """Each current layer of `schedule` becomes a rotation (the base layer first); its overrides are kept."""
        names: list[str] = []
        ordered = sorted(schedule.layers, key=lambda layer: layer is not base_layer(schedule))
        for layer in ordered:
            rotation = self._layer_rotation(schedule, layer)
            if rotation is not None:
                self.rotations.append(rotation)
                names.append(rotation["name"])
        if not names:
            return
        self.schedule_rotation[schedule.name] = names[0]
        self.mapped.append(MappedSchedule(schedule, names, self.slack_of))
        for item in schedule.overrides:
            where = f"schedule {schedule.name!r} override {item.start:%Y-%m-%d %H:%M}"
            if item.end.date() < self.today:
                continue
            user = self.slack_id(item.user, where)
            if user:
                self.overrides.append((names[0], user, item.start, item.end))
                self.notes.append(Note(where, f"{user} covers {names[0]} until {item.end:%Y-%m-%d %H:%M}: "
                                              "firewatch.yaml holds no overrides; `--apply-overrides` stores it in "
                                              "the database (listed in the header)"))

    def _members(self, layer: Any, where: str) -> list[dict[str, Any]]:
        members: list[dict[str, Any]] = []
        for key in layer.users:
            if key is None:
                continue
            user = self.slack_id(key, where)
            if user is None or any(m["user"] == user for m in members):
                continue
            members.append(_member(self.export, self.directory, key, user))
        return members

    def _layer_rotation(self, schedule: Any, layer: Any) -> dict[str, Any] | None:
        where = f"schedule {schedule.name!r} layer {layer.name!r}"
        if layer.end is not None and layer.end.date() <= self.today:
            self.notes.append(Note(where, f"ended {layer.end:%Y-%m-%d}; not imported"))
            return None
        members = self._members(layer, where)
        if not members:
            self.notes.append(Note(where, "nobody in it could be mapped to a Slack user; not imported"))
            return None
        name = rotation_name(schedule.name, layer.name if len(schedule.layers) > 1 else None, self.taken)
        length, approx = shift_length(layer.step)
        if approx:
            self.notes.append(Note(where, approx))
        if layer.anchor.second:
            self.notes.append(Note(where, f"handoff at {layer.anchor:%H:%M:%S}; Firewatch hands off on the minute"))
        shift: dict[str, Any] = {"length": length, "handoff_time": f"{layer.anchor:%H:%M}"}
        if length.endswith("w") or (length.endswith("d") and int(length[:-1]) % 7 == 0):
            shift["handoff_day"] = WEEKDAYS[layer.anchor.weekday()]
        rotation: dict[str, Any] = {"name": name, "timezone": layer.timezone, "shift": shift, "members": members}
        if not length.endswith("w"):
            # Keeps the vendor's phase for multi-day turns (a 3-day turn must not restart on the grid's epoch).
            rotation["start"] = first_handoff_on_or_after(layer, self.today).date().isoformat()
        if len(members) < 2:
            rotation["rules"] = {"min_rest_shifts": 0}
        if layer.windows:
            windows = "; ".join(w.describe() for w in layer.windows)
            self.notes.append(Note(where, f"restricted to {windows}: Firewatch rotations cover every hour, so "
                                          f"rotation {name!r} is on call around the clock; keep a separate rotation "
                                          "for the restricted hours or drop it"))
        keys = [k for k in layer.users if k]
        if len(set(keys)) != len(keys):
            self.notes.append(Note(where, "someone appears more than once in the order; Firewatch lists each person "
                                          "once and balances turns by burden instead"))
        return rotation

    def _step_target(self, step: Any, where: str) -> str | None:
        if step.kind == "schedule":
            target = self.schedule_rotation.get(step.key)
            if target is None:
                self.notes.append(Note(where, f"schedule {step.key!r} was not imported; step dropped"))
                return None
            return f"rotation:{target}"
        if step.kind == "user":
            user = self.slack_id(step.key, where)
            return f"user:{user}" if user else None
        return None

    def policy(self, policy: Any) -> dict[str, Any] | None:
        """The Firewatch escalation policy for a vendor policy, or None (noted) when no step maps."""
        where = f"escalation policy {policy.name!r}"
        kept: list[tuple[str, timedelta]] = []
        for i, step in enumerate(policy.steps):
            notify = self._step_target(step, f"{where} step {i + 1}")
            if notify is None:
                # A dropped step's wait goes to the step before it, so the next person is still paged on time.
                if kept:
                    kept[-1] = (kept[-1][0], kept[-1][1] + step.timeout)
                continue
            kept.append((notify, step.timeout))
        steps: list[dict[str, Any]] = []
        for i, (notify, wait) in enumerate(kept):
            timeout = max(wait, timedelta(minutes=1))
            if timeout != wait:
                self.notes.append(Note(f"{where} step {i + 1}", f"a wait of {format_duration(wait) or '0s'} was "
                                                                "raised to 1m (Firewatch pages one target per step)"))
            steps.append({"notify": notify, "timeout": format_duration(timeout).replace(" ", "")})
        if not steps:
            self.notes.append(Note(where, "no step could be mapped; not imported"))
            return None
        entry: dict[str, Any] = {"name": rotation_name(policy.name, None, self.taken_policies), "steps": steps}
        if policy.repeat > 1:
            entry["repeat"] = policy.repeat
        return entry


def _member(export: VendorExport, directory: Directory, key: str, user: str) -> dict[str, Any]:
    person = export.people.get(key)
    email = export.email_of(key) or ""
    member: dict[str, Any] = {"user": user}
    if person and person.name:
        member["name"] = person.name
    tz = known_zone(directory.timezones.get(email)) or known_zone(person.timezone if person else None)
    if tz:
        member["timezone"] = tz
    if directory.countries.get(email):
        member["country"] = directory.countries[email]
    return member
