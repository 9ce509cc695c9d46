"""Refusing hostile JSON before any parser sees it: nesting too deep (Python's parser raises RecursionError),
NUL characters (PostgreSQL text cannot hold them), and bodies that are not UTF-8."""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 32


class InputRejected(ValueError):
    """Input refused at the edge; the message says why and is safe to show to the sender. `kind` is what the
    input turned out to be ("command", ...) when that was known."""

    def __init__(self, reason: str, kind: str | None = None):
        super().__init__(reason)
        self.kind = kind


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting in JSON `text`, ignoring brackets inside strings (no recursion, no parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def contains_nul(value: Any) -> bool:
    """True when any string (or key) anywhere inside a parsed JSON value contains U+0000."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def decode_utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRejected("body is not UTF-8 text") from None


def parse_json_safely(text: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON `text`, or InputRejected with the reason (never RecursionError or a NUL reaching storage)."""
    if "\x00" in text:
        raise InputRejected("body contains a NUL character")
    if nesting_depth(text) > max_depth:
        raise InputRejected(f"JSON nested deeper than {max_depth} levels")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InputRejected(f"body is not JSON: {exc}") from None
    if contains_nul(value):
        raise InputRejected("body contains a NUL character")
    return value
