"""Locating the sample payloads used by the paging tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_path(name: str) -> Path:
    path = FIXTURES / name
    if not path.is_file():
        raise FileNotFoundError(f"paging test fixture {name} is missing from {FIXTURES}")
    return path


def load_text(name: str) -> str:
    return fixture_path(name).read_text(encoding="utf-8")


def load_json(name: str) -> Any:
    return json.loads(load_text(name))
