"""`contacts:` and `heartbeats:` sections of firewatch.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ContactConfig(BaseModel):
    """One person's contact methods and notification rules."""

    model_config = ConfigDict(extra="forbid")
    user: str


class HeartbeatConfig(BaseModel):
    """A dead man's switch: pages `policy` when no beat arrives within `interval` + `grace`."""

    model_config = ConfigDict(extra="forbid")
    name: str


def cross_check(config) -> list[str]:
    """Problems spanning sections (unknown policies, users), one `key.path: message` line each."""
    return []
