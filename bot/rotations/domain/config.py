"""`rotations:` section of firewatch.yaml (owned by the rotations package).

Pydantic v2 models with `extra="forbid"`. Validators raise `ValueError` with a plain sentence so that
`bot.config.format_validation_error` turns each problem into one clean `key.path: message` line. Checks
that need several fields at once (unknown users in `unavailability`, seniority mix, ...) live in the
`RotationConfig` model validator; they name the offending key relative to the rotation and the rotation's
name, and several problems are reported together, one per line.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.core import durations
from bot.slack_ids import ChannelId, UserGroupId, UserId

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES = {full: short for short, full in zip(WEEKDAYS, (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
SENIOR_LEVELS = ("senior",)
ROTATION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_LENGTH = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
# Hour-based shifts must tile a day so that handoffs happen at the same wall-clock times every day.
_HOUR_LENGTHS = (1, 2, 3, 4, 6, 8, 12)


class StrictModel(BaseModel):
    """Unknown keys are an error: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """Cached ZoneInfo lookup (raises ValueError with a helpful message for unknown names)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(
            f"{name!r} is not a known IANA time zone (use a name like Europe/London or America/New_York)"
        ) from None


def parse_clock(value: Any, what: str = "time") -> time:
    """Parse "HH:MM" (24-hour clock). PyYAML reads an unquoted 10:00 as the base-60 integer 600; accept it."""
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    match = _CLOCK.match(str(value).strip())
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"{value!r} is not a valid {what}; use 24-hour \"HH:MM\" like \"10:00\"")


def parse_length(value: str) -> tuple[int, str]:
    """Parse a shift length like 12h, 1d, 3d, 1w into (count, unit). Raises ValueError."""
    match = _LENGTH.match(str(value))
    hint = "use 12h, 8h, 1d, Nd (days) or Nw (weeks)"
    if not match:
        raise ValueError(f"{value!r} is not a valid shift length; {hint}")
    count, unit = int(match.group(1)), match.group(2)
    if count <= 0:
        raise ValueError(f"{value!r} is not a valid shift length: it must be positive; {hint}")
    if unit == "h":
        if count % 24 == 0:
            return count // 24, "d"
        if count not in _HOUR_LENGTHS:
            raise ValueError(
                f"{value!r} is not a valid shift length: hour-based shifts must divide a day "
                f"({', '.join(f'{h}h' for h in _HOUR_LENGTHS)}) or be whole days"
            )
    if unit == "d" and count > 56 or unit == "w" and count > 8:
        raise ValueError(f"{value!r} is not a valid shift length: at most 8 weeks")
    return count, unit


def _parse_moment(value: Any) -> Any:
    """YAML gives date/datetime objects; strings are parsed here so "2027-03-01" stays a *date*."""
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD) or datetime (YYYY-MM-DDTHH:MM)") from None
    return value


class ShiftConfig(StrictModel):
    """`shift:` — length and wall-clock handoff in the rotation's time zone."""

    length: str = "1w"
    handoff_time: str = "10:00"
    handoff_day: str | None = None  # weekly shifts only; defaults to mon

    @field_validator("length", mode="before")
    @classmethod
    def _length(cls, value: Any) -> str:
        parse_length(str(value))
        return str(value).strip()

    @field_validator("handoff_time", mode="before")
    @classmethod
    def _handoff_time(cls, value: Any) -> str:
        return parse_clock(value, "handoff_time").strftime("%H:%M")

    @field_validator("handoff_day", mode="before")
    @classmethod
    def _handoff_day(cls, value: Any) -> str | None:
        if value is None:
            return None
        text = str(value).strip().lower()
        text = _WEEKDAY_ALIASES.get(text, text)
        if text not in WEEKDAYS:
            raise ValueError(f"{value!r} is not a day of the week; use one of {', '.join(WEEKDAYS)}")
        return text

    @model_validator(mode="after")
    def _day_only_for_weekly(self) -> "ShiftConfig":
        if self.handoff_day is not None and not self.is_weekly:
            raise ValueError(
                f"handoff_day {self.handoff_day!r} only applies to weekly shifts (length 1w, 2w, 7d, ...); "
                f"this shift's length is {self.length}: remove handoff_day or use a weekly length"
            )
        return self

    @property
    def count_unit(self) -> tuple[int, str]:
        return parse_length(self.length)

    @property
    def is_weekly(self) -> bool:
        count, unit = self.count_unit
        return unit == "w" or (unit == "d" and count % 7 == 0)

    @property
    def step(self) -> timedelta:
        """Nominal length as a *wall-clock* step (a 1d shift is 23 h or 25 h across a DST change)."""
        count, unit = self.count_unit
        return {"h": timedelta(hours=count), "d": timedelta(days=count), "w": timedelta(weeks=count)}[unit]

    @property
    def handoff(self) -> time:
        return parse_clock(self.handoff_time)

    @property
    def weekday(self) -> int:
        return WEEKDAYS.index(self.handoff_day or "mon")


class MemberConfig(StrictModel):
    """One person on the rotation. `timezone` defaults to the rotation's; `left` is exclusive."""

    user: UserId
    name: str | None = None
    timezone: str | None = None
    country: str | None = None  # ISO 3166 code for public holidays (holidays package), e.g. GB, US
    subdivision: str | None = None  # optional holidays subdivision, e.g. ENG, CA
    seniority: Literal["junior", "mid", "senior"] = "mid"
    fte: float = 1.0
    joined: date | None = None  # first day on the rotation
    left: date | None = None  # first day no longer on the rotation

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> str | None:
        if value is None:
            return None
        code = str(value).strip().upper()
        if code not in _supported_countries():
            raise ValueError(f"{value!r} is not a country the holidays package knows; use an ISO code like GB, US, IN")
        return code

    @field_validator("fte")
    @classmethod
    def _fte(cls, value: float) -> float:
        if not 0 < value <= 1:
            raise ValueError(f"fte must be more than 0 and at most 1 (got {value})")
        return value

    @model_validator(mode="after")
    def _dates(self) -> "MemberConfig":
        if self.joined and self.left and self.left <= self.joined:
            raise ValueError(f"left ({self.left}) must be after joined ({self.joined})")
        if self.subdivision and not self.country:
            raise ValueError("subdivision needs country")
        if self.subdivision:
            import holidays

            known = holidays.list_supported_countries().get(self.country, [])
            if self.subdivision not in known:
                raise ValueError(f"{self.subdivision!r} is not a subdivision of {self.country} the holidays package knows")
        return self

    @property
    def display(self) -> str:
        return self.name or self.user

    @property
    def is_senior(self) -> bool:
        return self.seniority in SENIOR_LEVELS


@lru_cache(maxsize=1)
def _supported_countries() -> frozenset[str]:
    import holidays

    return frozenset(holidays.list_supported_countries())


class UnavailabilityConfig(StrictModel):
    """A period a member cannot be on call. Dates are whole days in the member's zone; `end` is exclusive."""

    user: UserId
    start: datetime | date
    end: datetime | date
    reason: str = ""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _moment(cls, value: Any) -> Any:
        return _parse_moment(value)

    @model_validator(mode="after")
    def _order(self) -> "UnavailabilityConfig":
        if _comparable(self.end) <= _comparable(self.start):
            raise ValueError(f"end ({self.end}) must be after start ({self.start}); end is exclusive")
        return self


def _comparable(value: date | datetime) -> datetime:
    """Rough ordering key for config checks only (aware values compared in UTC, naive as-is)."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time())
    if value.tzinfo is not None:
        return value.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    return value


class WeightsConfig(StrictModel):
    """Burden per hour: `base` for every hour, the others added on top when the hour qualifies."""

    base: float = 1.0
    night: float = 0.5
    weekend: float = 1.0
    holiday: float = 2.0

    @field_validator("base", "night", "weekend", "holiday")
    @classmethod
    def _non_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"weights must not be negative (got {value})")
        return value


class ShiftsInWindow(StrictModel):
    """`rules.max_shifts_in_window`: at most `shifts` shifts starting within any `window` (a duration)."""

    shifts: int
    window: str

    @field_validator("shifts")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"shifts must be 1 or more (got {value})")
        return value

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> str:
        durations.parse_duration(str(value))
        return str(value).strip()

    @property
    def window_delta(self) -> timedelta:
        return durations.parse_duration(self.window)


class WeekendsInWindow(StrictModel):
    """`rules.max_weekends_in_window`: on call on at most `weekends` of any `window` consecutive weekends.

    A weekend counts when any of the person's shifts overlaps its Saturday 00:00 to Monday 00:00 in the
    rotation's time zone; `window` is whole weeks (3w, 21d), one weekend per week.
    """

    weekends: int
    window: str

    @field_validator("weekends")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"weekends must be 1 or more (got {value})")
        return value

    @field_validator("window", mode="before")
    @classmethod
    def _window(cls, value: Any) -> str:
        delta = durations.parse_duration(str(value))
        if delta < timedelta(weeks=1) or delta % timedelta(weeks=1):
            raise ValueError(f"{value!r} is not a whole number of weeks; use a window like 3w or 21d")
        return str(value).strip()

    @property
    def window_weekends(self) -> int:
        return durations.parse_duration(self.window) // timedelta(weeks=1)


class RulesConfig(StrictModel):
    min_rest_shifts: int = 1
    night: str = "22:00-07:00"  # in each member's own time zone
    weights: WeightsConfig = Field(default_factory=WeightsConfig)
    senior_in_every_pair: bool = False
    pto_reduces_share: bool = False  # default: PTO does not reduce the share; the debt is paid later
    secondary_weight: float = 0.5  # a secondary shift counts this fraction of its burden
    # "optimal": CP-SAT plans each 13-week block at once; "greedy": shift by shift (also the fallback).
    planner: Literal["optimal", "greedy"] = "optimal"
    solver_time_budget: str = "5s"  # wall-clock budget per plan; past it the greedy planner finishes the job
    max_shifts_in_window: ShiftsInWindow | None = None  # e.g. {shifts: 2, window: 7d}
    max_weekends_in_window: WeekendsInWindow | None = None  # e.g. {weekends: 1, window: 3w}
    no_back_to_back: bool = False  # never the same person on two consecutive shifts (even with min_rest 0)

    @field_validator("min_rest_shifts")
    @classmethod
    def _rest(cls, value: int) -> int:
        if value < 0:
            raise ValueError(f"min_rest_shifts must be 0 or more (got {value})")
        return value

    @field_validator("night", mode="before")
    @classmethod
    def _night(cls, value: Any) -> str:
        text = str(value)
        start, sep, end = text.partition("-")
        if not sep:
            raise ValueError(f"{value!r} is not a time window; use \"HH:MM-HH:MM\" like \"22:00-07:00\"")
        first, second = parse_clock(start.strip(), "night start"), parse_clock(end.strip(), "night end")
        if first == second:
            raise ValueError(f"{value!r} is an empty night window: start and end are the same")
        return f"{first:%H:%M}-{second:%H:%M}"

    @field_validator("secondary_weight")
    @classmethod
    def _secondary_weight(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"secondary_weight must not be negative (got {value})")
        return value

    @field_validator("solver_time_budget", mode="before")
    @classmethod
    def _budget(cls, value: Any) -> str:
        durations.parse_duration(str(value))
        return str(value).strip()

    @property
    def solver_seconds(self) -> float:
        return durations.parse_duration(self.solver_time_budget).total_seconds()

    @property
    def night_window(self) -> tuple[time, time]:
        start, _, end = self.night.partition("-")
        return parse_clock(start), parse_clock(end)


class RotationConfig(StrictModel):
    """One on-call rotation (an item of `rotations:` in firewatch.yaml)."""

    name: str
    timezone: str = "UTC"
    shift: ShiftConfig = Field(default_factory=ShiftConfig)
    channel: ChannelId | None = None
    usergroup: UserGroupId | None = None
    secondary: bool = False
    members: list[MemberConfig] = Field(default_factory=list, validate_default=True)
    unavailability: list[UnavailabilityConfig] = Field(default_factory=list)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    horizon: str = "2w"  # published horizon: shifts starting before now + horizon are frozen
    start: date | None = None  # anchor: first shift boundary on/after this date; planning starts here
    weekly_digest: bool = False  # opt-in: a weekly health digest (and overdue follow-ups) to `channel`

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ROTATION_NAME.match(value):
            raise ValueError(
                f"{value!r} is not a valid rotation name: use 1-40 of a-z, 0-9, '-' and '_', starting with a letter or digit"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("horizon", mode="before")
    @classmethod
    def _horizon(cls, value: Any) -> str:
        durations.parse_duration(str(value))
        return str(value).strip()

    @field_validator("members")
    @classmethod
    def _members(cls, value: list[MemberConfig], info: Any) -> list[MemberConfig]:
        name = info.data.get("name", "?")
        if not value:
            raise ValueError(f"rotation {name!r} has no members; add at least one under members:")
        ids = [m.user for m in value]
        dupes = sorted({u for u in ids if ids.count(u) > 1})
        if dupes:
            raise ValueError(f"duplicate members in rotation {name!r}: {', '.join(dupes)} (list each person once)")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> "RotationConfig":
        problems: list[str] = []
        known = {m.user for m in self.members}
        for i, item in enumerate(self.unavailability):
            if item.user not in known:
                problems.append(f"unavailability[{i}].user: {item.user} is not a member of rotation {self.name!r}")
        if self.members:
            people_per_shift = 2 if self.secondary else 1
            if self.secondary and len(self.members) < 2:
                problems.append(
                    f"secondary: rotation {self.name!r} needs at least 2 members for a secondary "
                    f"(it has {len(self.members)})"
                )
            elif len(self.members) < people_per_shift * (self.rules.min_rest_shifts + 1):
                needed = people_per_shift * (self.rules.min_rest_shifts + 1)
                problems.append(
                    f"rules.min_rest_shifts: {self.rules.min_rest_shifts} shift(s) of rest with "
                    f"{people_per_shift} person(s) per shift needs at least {needed} members; "
                    f"rotation {self.name!r} has {len(self.members)}"
                )
            if self.rules.senior_in_every_pair:
                if not self.secondary:
                    problems.append("rules.senior_in_every_pair: only applies with secondary: true (pairs)")
                elif not any(m.is_senior for m in self.members):
                    problems.append(
                        f"rules.senior_in_every_pair: rotation {self.name!r} has no member with seniority: senior"
                    )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # Convenience accessors used by the engine -------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def horizon_delta(self) -> timedelta:
        return durations.parse_duration(self.horizon)

    def member(self, user: str) -> MemberConfig | None:
        return next((m for m in self.members if m.user == user), None)

    def member_zone(self, member: MemberConfig) -> ZoneInfo:
        return zone(member.timezone or self.timezone)
