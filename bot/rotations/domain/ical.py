"""iCalendar export of shifts (one VEVENT per shift, UTC times, stable UIDs).

The UID depends only on rotation, role and start instant, so a calendar client updates the event in place
when a re-plan or swap changes the person, instead of duplicating it. Such a change also raises the event's
`SEQUENCE` and `LAST-MODIFIED` (RFC 5545 3.8.7.4 / 3.8.7.3): `revise` keeps one `EventRevision` per UID, the
feed stores them between requests. A shift that is only planned, not yet published (inside the horizon), is
`STATUS:TENTATIVE`; published, served and override shifts are `CONFIRMED`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Mapping

from icalendar import Calendar, Event

from bot.rotations.domain.models import Shift

UTC = timezone.utc
TENTATIVE_SOURCES = frozenset({"planned"})  # Shift.source values that may still move


@dataclass(frozen=True)
class EventRevision:
    """What a calendar client was last shown for one UID: a fingerprint of the content and its version."""

    fingerprint: str
    sequence: int
    modified: datetime


_UID_SUFFIX = "@firewatch"
_STAMP = "%Y%m%dT%H%M%SZ"


def shift_uid(shift: Shift) -> str:
    return f"{shift.rotation}-{shift.role}-{shift.start.astimezone(UTC):{_STAMP}}{_UID_SUFFIX}"


def shift_status(shift: Shift) -> str:
    return "TENTATIVE" if shift.source in TENTATIVE_SOURCES else "CONFIRMED"


def fingerprint(shift: Shift) -> str:
    """The parts of an event a client shows: a change in any of them is a new revision."""
    return f"{shift.user}|{shift.end.astimezone(UTC):{_STAMP}}|{shift_status(shift)}"


def communicated(revisions: Mapping[str, EventRevision], rotation: str) -> list[Shift]:
    """The tentative shifts calendar clients were last shown (read back from the stored revisions): the plan
    beyond the horizon that a re-plan keeps wherever that costs little fairness."""
    out: list[Shift] = []
    prefix = f"{rotation}-"
    for uid, revision in revisions.items():
        if not (uid.startswith(prefix) and uid.endswith(_UID_SUFFIX)):
            continue
        role, _, begin = uid[len(prefix):-len(_UID_SUFFIX)].rpartition("-")
        user, _, rest = revision.fingerprint.partition("|")
        end, _, status = rest.partition("|")
        if status != "TENTATIVE" or not role:
            continue
        try:
            start = datetime.strptime(begin, _STAMP).replace(tzinfo=UTC)
            finish = datetime.strptime(end, _STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue  # not written by `fingerprint`/`shift_uid`: nothing to keep
        out.append(Shift(rotation, role, user, start, finish, 0.0, "planned"))
    return sorted(out, key=lambda s: (s.start, s.role))


def revise(shifts: Iterable[Shift], known: Mapping[str, EventRevision], now: datetime) -> dict[str, EventRevision]:
    """Revisions for `shifts`: unchanged ones kept, changed ones one SEQUENCE up and modified `now`, new ones 0."""
    out: dict[str, EventRevision] = {}
    for shift in shifts:
        uid, print_ = shift_uid(shift), fingerprint(shift)
        before = known.get(uid)
        if before is None:
            out[uid] = EventRevision(print_, 0, now)
        elif before.fingerprint == print_:
            out[uid] = before
        else:
            out[uid] = EventRevision(print_, before.sequence + 1, now)
    return out


def to_ical(
    shifts: Iterable[Shift],
    *,
    calendar_name: str = "Firewatch on-call",
    names: Mapping[str, str] | None = None,
    stamp: datetime | None = None,
    revisions: Mapping[str, EventRevision] | None = None,
) -> bytes:
    """Serialise shifts as an .ics file. `names` maps user ids to display names for the description.

    `stamp` (DTSTAMP) defaults to now; pass a fixed value for byte-identical output. `revisions` (from
    `revise`) add SEQUENCE and LAST-MODIFIED; without them every event is at its first version.
    """
    names = names or {}
    revisions = revisions or {}
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", "-//Firewatch//on-call rotations//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", calendar_name)
    for shift in sorted(shifts, key=lambda s: (s.start, s.role)):
        event = Event()
        uid = shift_uid(shift)
        event.add("uid", uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", shift.start.astimezone(UTC))
        event.add("dtend", shift.end.astimezone(UTC))
        event.add("summary", f"On call: {shift.rotation} ({shift.role})")
        who = names.get(shift.user, shift.user)
        event.add("description", f"{who} ({shift.user}) is {shift.role} on call for {shift.rotation}.")
        event.add("status", shift_status(shift))
        revision = revisions.get(uid)
        event.add("sequence", revision.sequence if revision else 0)
        if revision:
            event.add("last-modified", revision.modified.astimezone(UTC))
        event.add("x-firewatch-user", shift.user)
        event.add("transp", "TRANSPARENT")  # being on call should not block the calendar as busy
        cal.add_component(event)
    return cal.to_ical()
