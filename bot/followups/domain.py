"""`followups:` section of firewatch.yaml and the follow-up rules (plain Python)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FollowupsConfig(BaseModel):
    """Follow-up trackers and SLAs."""

    model_config = ConfigDict(extra="forbid")


def cross_check(config) -> list[str]:
    """Problems spanning sections, one `key.path: message` line each."""
    return []
