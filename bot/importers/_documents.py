"""Reading an export: one JSON file, a directory of them, and the list/detail envelopes the vendors use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.importers.domain import UnreadableExport

# Keys under which the vendors' list and detail responses carry their objects.
_ENVELOPES = ("schedules", "schedule", "escalation_policies", "escalation_policy", "users", "user", "overrides",
              "override", "data", "results", "escalation_chains", "integrations", "on_call_shifts")


def read_documents(source: str | Path) -> list[tuple[str, Any]]:
    """(file name, parsed JSON) for a file, or for every `*.json` in a directory (sorted, for stable output)."""
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json" and p.is_file())
        if not files:
            raise UnreadableExport(f"{path}: no .json files in this directory")
    elif path.is_file():
        files = [path]
    else:
        raise UnreadableExport(f"{path}: no such file or directory")
    out = []
    for file in files:
        try:
            out.append((file.name, json.loads(file.read_text(encoding="utf-8"))))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UnreadableExport(f"{file}: not valid JSON ({exc})") from None
        except OSError as exc:
            raise UnreadableExport(f"{file}: cannot read ({exc.strerror})") from None
    return out


def objects(document: Any, depth: int = 0) -> list[tuple[str | None, dict]]:
    """Every object in a response, with the envelope key it came under (None at the top level)."""
    if depth > 3:
        return []
    if isinstance(document, list):
        return [item for element in document for item in objects(element, depth + 1)]
    if not isinstance(document, dict):
        return []
    if "id" in document:
        return [(None, document)]  # an object itself: envelopes carry no id
    found: list[tuple[str | None, dict]] = []
    enveloped = False
    for key in _ENVELOPES:
        value = document.get(key)
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            enveloped = True
            found.extend((key, v) for v in value)
        elif isinstance(value, dict) and key not in ("user",):
            enveloped = True
            found.append((key, value))
    if not enveloped:
        found.append((None, document))
    return found
