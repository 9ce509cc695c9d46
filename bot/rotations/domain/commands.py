"""The `/oncall` grammar in plain Python (no Slack, no database): parse the text into a `Command` or raise
`OncallUsageError` naming what was wrong.

    /oncall who [rotation]                              who is on call now and next
    /oncall schedule [rotation] [weeks]                 the next weeks (default 2, at most 8)
    /oncall swap [rotation] @user <date>                give @user your shift on <date>, take their next one
    /oncall swap [rotation] withdraw                    take back your pending swap requests
    /oncall override [rotation] @user <start> <end>     @user covers [start, end)
    /oncall away <start> <end>                          PTO
    /oncall note [rotation] <text>                      carried into the next handoff
    /oncall fairness [rotation]                         the fairness ledger
    /oncall export [rotation]                           a private calendar (iCal) link
    /oncall export [rotation] revoke                    turn that link off
    /oncall explain [rotation] [when]                   why this person has this shift
    /oncall cover [rotation] <start> <end> [reason]     offer your shifts in that time to eligible members
    /oncall health [rotation] [period]                  the on-call health table (period 2027-Q1 or 2027-03)
    /oncall help

`[rotation]` is optional when you are in exactly one rotation (or only one exists). Dates are `YYYY-MM-DD`
(a whole day: an end date is included), `YYYY-MM-DDTHH:MM`, `today` or `tomorrow`, in the rotation's zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Union

from bot.core.mentions import mentioned_user
from bot.core.numbers import small_int
from bot.safety import neutralize_mentions

MAX_WEEKS = 8
DEFAULT_WEEKS = 2
NOTE_MAX = 1000
REASON_MAX = 300
_PERIOD = re.compile(r"^\d{4}-(Q[1-4]|\d{2})$", re.IGNORECASE)

USAGE = """*`/oncall` commands* (`[rotation]` can be left out when you are in one rotation)
• `/oncall who [rotation]` — who is on call now and next
• `/oncall schedule [rotation] [weeks]` — the next weeks (default 2)
• `/oncall swap [rotation] @user <date>` — give @user your shift on <date>; you take their next shift after it
  (`/oncall swap [rotation] withdraw` takes your pending requests back)
• `/oncall override [rotation] @user <start> <end>` — @user covers that time (admins: anyone; members: hand
  your own shift to another member)
• `/oncall away <start> <end>` — time off; the plan beyond the published weeks avoids you
• `/oncall note [rotation] <text>` — a note for the next handoff
• `/oncall fairness [rotation]` — burden, fair share, nights, weekends, holidays
• `/oncall export [rotation]` — a private calendar link (`… revoke` turns it off) · `/oncall explain [rotation] [when]` — why that person
• `/oncall cover [rotation] <start> <end> [reason]` — offer your shifts in that time to the members who may take
  them, lowest burden first; the first to accept takes them
• `/oncall health [rotation] [period]` — shifts, nights, weekends, holidays, streaks, burden vs share (this quarter,
  or `2027-Q1` / `2027-03`), with a chart sent to you
• `/oncall contact add sms +447700900123` · `contact list` · `contact test` — how you are reached when paged
Dates: `2027-03-01` (whole day; an end date is included), `2027-03-01T14:00`, `today`, `tomorrow` — in the rotation's time zone."""

VERBS = ("help", "who", "schedule", "swap", "override", "away", "note", "fairness", "export", "explain", "cover",
         "health")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}$")
# Years a rotation date can sensibly name; outside them (9999-12-31) date arithmetic would overflow.
MIN_YEAR, MAX_YEAR = 2000, 2200

Moment = Union[date, datetime, str]  # a date, a naive wall-clock datetime, or "today"/"tomorrow"


class OncallUsageError(ValueError):
    """Malformed `/oncall` input; the message says what was wrong and is shown to the user."""


@dataclass(frozen=True)
class OncallCommand:
    name: str
    rotation: str | None = None
    args: dict[str, object] = field(default_factory=dict)


def _show(token: str) -> str:
    return neutralize_mentions(token[:60])


def parse_moment(token: str, what: str) -> Moment:
    """`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `today` or `tomorrow`; raises OncallUsageError naming `what`."""
    text = token.strip()
    low = text.lower()
    if low in ("today", "tomorrow"):
        return low
    text = text if text.isascii() else ""  # `²` and `١` are digits to Python, not to a calendar
    parsed: date | datetime | None = None
    try:
        if _DATE.match(text):
            parsed = date.fromisoformat(text)
        elif _DATETIME.match(text):
            day, _, clock = text.replace(" ", "T").partition("T")
            hour, minute = clock.split(":")
            parsed = datetime.combine(date.fromisoformat(day), time(int(hour), int(minute)))
    except ValueError:
        parsed = None
    if parsed is not None:
        if not MIN_YEAR <= parsed.year <= MAX_YEAR:
            raise OncallUsageError(f"{what} `{_show(token)}` is out of range: use a year from {MIN_YEAR} to {MAX_YEAR}")
        return parsed
    raise OncallUsageError(f"{what} `{_show(token)}` is not a date like `2027-03-01` or `2027-03-01T14:00`")


def moment_day(moment: Moment, tz: tzinfo, today: date | None = None) -> date:
    """The calendar day a moment names, in zone `tz`."""
    if isinstance(moment, str):
        base = today or datetime.now(tz).date()
        return base + timedelta(days=1 if moment == "tomorrow" else 0)
    if isinstance(moment, datetime):
        return moment.date()
    return moment


def to_instant(moment: Moment, tz: tzinfo, *, end: bool = False, today: date | None = None) -> datetime:
    """An aware instant. A whole day means its start, or with `end=True` the start of the next day (so an end
    date is included)."""
    from bot.rotations.domain.timeline import to_aware

    if isinstance(moment, datetime):
        return to_aware(moment, tz)  # type: ignore[arg-type]
    day = moment_day(moment, tz, today)
    return to_aware(day + timedelta(days=1) if end else day, tz)  # type: ignore[arg-type]


def _mention(token: str, usage: str) -> str:
    user = mentioned_user(token)
    if user is not None:
        return user
    if token.startswith("@"):
        raise OncallUsageError(f"I could not read `{_show(token)}` as a person: pick them from the @ menu so Slack "
                               f"sends their id ({usage})")
    raise OncallUsageError(f"name a person with an @mention, not `{_show(token)}` ({usage})")


def parse_oncall_command(text: str, rotations: list[str]) -> OncallCommand:
    """Parse the text after `/oncall`. `rotations` are the configured rotation names."""
    tokens = (text or "").split()
    if not tokens:
        return OncallCommand("help")
    verb, rest = tokens[0].lower(), tokens[1:]
    if verb not in VERBS:
        raise OncallUsageError(f"unknown command `{_show(tokens[0])}`")
    if verb == "help":
        return OncallCommand("help")
    rotation = None
    if rest and rest[0].lower() in rotations and verb != "away":
        rotation, rest = rest[0].lower(), rest[1:]
    args = _Args(verb, rotation, rest, rotations)
    if verb in ("who", "fairness", "export"):
        return _parse_simple(args)
    if verb == "schedule":
        return _parse_schedule(args)
    if verb == "explain":
        at = parse_moment(" ".join(rest), "the time") if rest else None
        return OncallCommand("explain", rotation, {"at": at})
    if verb == "swap":
        return _parse_swap(args)
    if verb in ("override", "away"):
        return _parse_span(args)
    if verb == "cover":
        return _parse_cover(args, text)
    if verb == "health":
        return _parse_health(args)
    return _parse_note(args, text, tokens[0])


@dataclass
class _Args:
    """What follows the verb (and the rotation, if one was named)."""

    verb: str
    rotation: str | None
    rest: list[str]
    rotations: list[str]

    def no_more(self, allowed: str) -> None:
        if self.rest:
            hint = "" if self.rotation or not self.rotations else f" (rotations: {', '.join(self.rotations)})"
            raise OncallUsageError(f"unexpected `{_show(' '.join(self.rest))}`{hint}: use `{allowed}`")


def _parse_simple(a: _Args) -> OncallCommand:
    if a.verb == "export" and a.rest and a.rest[0].lower() == "revoke":
        a.rest = a.rest[1:]
        a.no_more("/oncall export [rotation] revoke")
        return OncallCommand("export", a.rotation, {"revoke": True})
    a.no_more(f"/oncall {a.verb} [rotation]")
    return OncallCommand(a.verb, a.rotation)


def _parse_schedule(a: _Args) -> OncallCommand:
    weeks = DEFAULT_WEEKS
    if a.rest:
        weeks = small_int(a.rest[0])
        if weeks is None:
            a.no_more("/oncall schedule [rotation] [weeks]")
        a.rest.pop(0)
        if not 1 <= weeks <= MAX_WEEKS:
            raise OncallUsageError(f"weeks must be 1 to {MAX_WEEKS}, not {weeks}")
    a.no_more("/oncall schedule [rotation] [weeks]")
    return OncallCommand("schedule", a.rotation, {"weeks": weeks})


def _parse_swap(a: _Args) -> OncallCommand:
    usage = "`/oncall swap [rotation] @user <date>` or `/oncall swap [rotation] withdraw`"
    if a.rest and a.rest[0].lower() == "withdraw":
        a.rest = a.rest[1:]
        a.no_more("/oncall swap [rotation] withdraw")
        return OncallCommand("swap", a.rotation, {"withdraw": True})
    if len(a.rest) != 2:
        raise OncallUsageError(f"a swap needs a person and the date of your shift: {usage}")
    return OncallCommand("swap", a.rotation, {"user": _mention(a.rest[0], usage),
                                              "day": parse_moment(a.rest[1], "the date")})


def _parse_span(a: _Args) -> OncallCommand:
    """`override @user <start> <end>` and `away <start> <end>`."""
    rest = a.rest
    if a.verb == "override":
        usage = "`/oncall override [rotation] @user <start> <end>`"
        if len(rest) != 3:
            raise OncallUsageError(f"an override needs a person, a start and an end: {usage}")
        return OncallCommand("override", a.rotation, {"user": _mention(rest[0], usage),
                                                      "start": parse_moment(rest[1], "the start"),
                                                      "end": parse_moment(rest[2], "the end")})
    usage = "`/oncall away <start> <end>`"
    if len(rest) != 2:
        raise OncallUsageError(f"time off needs a start and an end: {usage}")
    return OncallCommand("away", None, {"start": parse_moment(rest[0], "the start"),
                                        "end": parse_moment(rest[1], "the end")})


def _parse_note(a: _Args, text: str, verb_token: str) -> OncallCommand:
    body = " ".join(a.rest).strip()
    if not body:
        raise OncallUsageError("the note is empty: `/oncall note [rotation] <text>`")
    if len(body) > NOTE_MAX:
        raise OncallUsageError(f"the note is {len(body)} characters; keep it under {NOTE_MAX}")
    # Keep the note's own spacing: take the text after the verb (and the rotation, if one was given).
    raw = (text or "").strip()[len(verb_token):].strip()
    rotation = a.rotation
    if rotation:
        raw = raw[len(rotation):].strip() if raw.lower().startswith(rotation) else raw
    return OncallCommand("note", rotation, {"text": raw or body})


def _parse_cover(a: _Args, text: str) -> OncallCommand:
    """`cover [rotation] <start> <end> [reason]`; the reason keeps its own spacing."""
    usage = "`/oncall cover [rotation] <start> <end> [reason]`"
    if len(a.rest) < 2:
        raise OncallUsageError(f"a cover request needs a start and an end: {usage}")
    start, end = parse_moment(a.rest[0], "the start"), parse_moment(a.rest[1], "the end")
    reason = ""
    if len(a.rest) > 2:
        # Everything after the end date, as typed (not re-joined tokens).
        raw = (text or "").strip()
        cut = raw.find(a.rest[1], raw.find(a.rest[0]) + len(a.rest[0])) + len(a.rest[1])
        reason = raw[cut:].strip() or " ".join(a.rest[2:])
    if len(reason) > REASON_MAX:
        raise OncallUsageError(f"the reason is {len(reason)} characters; keep it under {REASON_MAX}")
    return OncallCommand("cover", a.rotation, {"start": start, "end": end, "reason": reason})


def _parse_health(a: _Args) -> OncallCommand:
    period = None
    if a.rest and _PERIOD.match(a.rest[0]):
        period = a.rest.pop(0).upper()
    a.no_more("/oncall health [rotation] [period like 2027-Q1 or 2027-03]")
    return OncallCommand("health", a.rotation, {"period": period})
