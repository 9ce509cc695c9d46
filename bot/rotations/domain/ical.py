"""iCalendar export of shifts (one VEVENT per shift, UTC times, stable UIDs).

The UID depends only on rotation, role and start instant, so a calendar client updates the event in place
when a re-plan or swap changes the person, instead of duplicating it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Mapping

from icalendar import Calendar, Event

from bot.rotations.domain.models import Shift

UTC = timezone.utc


def shift_uid(shift: Shift) -> str:
    return f"{shift.rotation}-{shift.role}-{shift.start.astimezone(UTC):%Y%m%dT%H%M%SZ}@firewatch"


def to_ical(
    shifts: Iterable[Shift],
    *,
    calendar_name: str = "Firewatch on-call",
    names: Mapping[str, str] | None = None,
    stamp: datetime | None = None,
) -> bytes:
    """Serialise shifts as an .ics file. `names` maps user ids to display names for the description.

    `stamp` (DTSTAMP) defaults to now; pass a fixed value for byte-identical output.
    """
    names = names or {}
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", "-//Firewatch//on-call rotations//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", calendar_name)
    for shift in sorted(shifts, key=lambda s: (s.start, s.role)):
        event = Event()
        event.add("uid", shift_uid(shift))
        event.add("dtstamp", stamp)
        event.add("dtstart", shift.start.astimezone(UTC))
        event.add("dtend", shift.end.astimezone(UTC))
        event.add("summary", f"On call: {shift.rotation} ({shift.role})")
        who = names.get(shift.user, shift.user)
        event.add("description", f"{who} ({shift.user}) is {shift.role} on call for {shift.rotation}.")
        event.add("x-firewatch-user", shift.user)
        event.add("transp", "TRANSPARENT")  # being on call should not block the calendar as busy
        cal.add_component(event)
    return cal.to_ical()
