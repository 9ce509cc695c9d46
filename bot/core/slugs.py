"""The one slug function: incident channel names and postmortem file names."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = re.compile(r"['`]")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int, *, fallback: str = "") -> str:
    """ASCII lower-case words joined by `-` (Slack's channel-name and any file system's alphabet), at most
    `max_length` characters, cut at a word boundary where there is one; `fallback` when nothing is left.

    Accents are dropped (`Café` -> `cafe`) and apostrophes removed (`don't` -> `dont`, not `don-t`)."""
    if max_length < 1:
        return ""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", _APOSTROPHES.sub("", ascii_text.lower())).strip("-")
    if len(slug) > max_length:
        # A `-` at index max_length means the first max_length characters end on a whole word.
        cut = slug.rfind("-", 0, max_length + 1)
        slug = slug[: cut if cut > 0 else max_length].strip("-")
    return slug or fallback
