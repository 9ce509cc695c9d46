"""Whole numbers typed by people or carried in button values.

`str.isdigit()` accepts `²` and `١`, which `int()` then refuses or reads as another number, so every id and count
that comes from outside goes through `small_int`: ASCII digits only, and short enough for a 32-bit column.
"""

from __future__ import annotations

# Database ids and counts are 32-bit integers: ten digits could already overflow one.
MAX_DIGITS = 9


def small_int(text: str | None, *, max_digits: int = MAX_DIGITS) -> int | None:
    """`text` as a non-negative int when it is 1..max_digits ASCII digits, else None."""
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
