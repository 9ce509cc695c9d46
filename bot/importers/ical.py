"""iCalendar feeds (a rotation kept in a shared calendar): each VEVENT is one person's shift.

The person is the event's ATTENDEE e-mail, else its ORGANIZER e-mail, else the SUMMARY (after a `:` if there
is one, so "On call: Ana" is Ana). The rotation is inferred: its time zone from X-WR-TIMEZONE or the first
event's TZID, the shift length from the most common event length, the handoff from the first event, members
in order of first appearance. The events themselves are what the audit compares with (a calendar has no
rule to replay).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from bot.importers.domain import CoverOverride, Layer, Note, Person, Schedule, UnreadableExport, VendorExport, known_zone
from bot.rotations.domain.config import zone

VENDOR = "ical"


def _email(value) -> str | None:
    text = str(value or "")
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.lower() if "@" in text else None


def parse(data: bytes, rotation: str) -> VendorExport:
    from icalendar import Calendar

    try:
        calendar = Calendar.from_ical(data)
    except ValueError as exc:
        raise UnreadableExport(f"not an iCalendar file ({exc})") from None
    export = VendorExport(VENDOR)
    tz_name = known_zone(str(calendar.get("X-WR-TIMEZONE") or "")) or None
    events: list[tuple[str, datetime, datetime]] = []
    for component in calendar.walk("VEVENT"):
        start, end = component.get("DTSTART"), component.get("DTEND")
        if start is None or end is None:
            export.notes.append(Note(f"event {component.get('UID')}", "no DTSTART/DTEND; skipped"))
            continue
        s, e = start.dt, end.dt
        if not isinstance(s, datetime):
            s, e = datetime.combine(s, datetime.min.time()), datetime.combine(e if isinstance(e, date) else s, datetime.min.time())
        if tz_name is None and s.tzinfo is not None and known_zone(str(getattr(s.tzinfo, "key", ""))):
            tz_name = s.tzinfo.key
        if component.get("RRULE"):
            export.notes.append(Note(f"event {component.get('SUMMARY')}", "recurring event: only its first "
                                                                         "occurrence was read"))
        attendee = component.get("ATTENDEE")
        if isinstance(attendee, list):
            attendee = attendee[0] if attendee else None
        summary = str(component.get("SUMMARY") or "").strip()
        name = summary.rsplit(":", 1)[-1].strip() if summary else ""
        key = _email(attendee) or _email(component.get("ORGANIZER")) or name
        if not key:
            export.notes.append(Note(f"event {component.get('UID')}", "nobody named on it; skipped"))
            continue
        export.people.setdefault(key, Person(key, key if "@" in key else None, name or None))
        events.append((key, s, e))
    if not events:
        raise UnreadableExport("the calendar has no events with a start, an end and a person")
    tz_name = tz_name or "UTC"
    tz = zone(tz_name)
    events = sorted((k, _aware(s, tz), _aware(e, tz)) for k, s, e in events)
    events.sort(key=lambda item: item[1])
    length = Counter(e - s for _, s, e in events).most_common(1)[0][0]
    order: list[str] = []
    for key, _, _ in events:
        if key not in order:
            order.append(key)
    first = events[0][1].astimezone(tz).replace(tzinfo=None)
    schedule = Schedule(rotation, tz_name)
    # The inferred rule (for the configuration); `recorded` holds what the calendar actually says.
    schedule.layers.append(Layer(rotation, rotation, tz_name, first, _wall_step(length), tuple(order)))
    schedule.recorded = [CoverOverride(rotation, k, s, e) for k, s, e in events]
    export.schedules.append(schedule)
    return export


def _wall_step(length: timedelta) -> timedelta:
    """A 23 h or 25 h event spanning a DST change is a day-long shift."""
    hours = length.total_seconds() / 3600
    for days in range(1, 57):
        if abs(hours - 24 * days) <= 1:
            return timedelta(days=days)
    return length


def _aware(value: datetime, tz) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)
