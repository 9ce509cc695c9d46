"""The one duration grammar (configuration, commands) and the one way durations are shown.

Grammar read by `parse_duration`: one or more terms `<number><unit>`, units from largest to smallest, each unit
at most once, optionally separated by spaces:

    units:     w (weeks), d (days), h (hours), m (minutes), s (seconds) - lower case only
    number:    ASCII digits 0-9 (a superscript `²` or an Arabic-Indic `١` is refused)
    examples:  90s · 5m · 1h30m · 1h 30m · 2d · 1w · 2w 3d
    refused:   bare numbers (`300`: seconds or minutes?), `1.5h`, `-5m`, `5M`, `1m1h` (order), `5m5m` (twice),
               zero unless the caller allows it, and anything longer than the caller's maximum (default 366 days)

`format_duration` writes the canonical form of the same grammar, days down to seconds, zero units left out
(`1h 5m`, `2d 4h`, `45s`), so `parse_duration(format_duration(x)) == x` for every whole number of seconds.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

DURATION_HELP = "use whole numbers with units w, d, h, m or s, largest first, like 30s, 5m, 1h30m, 2d or 1w"
DEFAULT_MAXIMUM = timedelta(days=366)
UNKNOWN = "—"

_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
# Written with [0-9], not \d: \d also matches digits of other scripts, which int() would then accept.
_TERM = re.compile(r"([0-9]+)([wdhms])")
_SEPARATOR = re.compile(r" *")
# More digits than this cannot be under any sane maximum, and would make int() do needless work on huge input.
_MAX_DIGITS = 12


def _non_ascii_digit(text: str) -> bool:
    return any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text)


def _total_seconds(text: str) -> int:
    """Seconds in `text`, or ValueError naming what is wrong."""
    body = text.strip()
    if _non_ascii_digit(body):
        raise ValueError(f"{text!r} is not a duration: write numbers with the digits 0-9; {DURATION_HELP}")
    position, total, last_rank = 0, 0, -1
    ranks = list(_UNIT_SECONDS)
    while position < len(body):
        if position:
            position = _SEPARATOR.match(body, position).end()
        term = _TERM.match(body, position)
        if term is None:
            raise ValueError(f"{text!r} is not a duration: {DURATION_HELP}")
        digits, unit = term.groups()
        rank = ranks.index(unit)
        if rank <= last_rank:
            raise ValueError(f"{text!r} is not a duration: give each unit once, largest first; {DURATION_HELP}")
        if len(digits) > _MAX_DIGITS:
            raise ValueError(f"{text!r} is far too long for a duration")
        total += int(digits) * _UNIT_SECONDS[unit]
        last_rank, position = rank, term.end()
    if not body:
        raise ValueError(f"{text!r} is not a duration: {DURATION_HELP}")
    return total


def parse_duration(value: Any, *, allow_zero: bool = False, maximum: timedelta = DEFAULT_MAXIMUM) -> timedelta:
    """Read a duration in the grammar above (a timedelta passes through the same checks).

    Raises ValueError with a sentence fit for `firewatch config check` or a Slack reply."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        seconds = _total_seconds(value)
    else:
        # YAML reads `timeout: 300` as an int: a bare number is ambiguous (seconds? minutes?) so it is refused.
        raise ValueError(f"{value!r} is not a duration: {DURATION_HELP}")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError(f"{value!r} is not a positive duration: {DURATION_HELP}")
    if seconds > maximum.total_seconds():
        raise ValueError(f"{value!r} is longer than the maximum of {format_duration(maximum)}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta | float | None) -> str:
    """`1h 5m`, `2d 4h`, `45s` (whole seconds, rounded), `0s`; `—` for None (not known yet).

    A number is seconds. Negative values raise ValueError: a negative span is a bug upstream, not something to
    show."""
    if value is None:
        return UNKNOWN
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise ValueError(f"cannot show a negative duration ({seconds} s)")
    rest = int(round(seconds))
    if rest == 0:
        return "0s"
    parts = []
    # Weeks are read back but not written: "9d 2h" reads more easily than "1w 2d 2h" for an elapsed time.
    for unit in ("d", "h", "m", "s"):
        count, rest = divmod(rest, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts)
