"""`rotations:` section of firewatch.yaml (owned by the rotations package)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RotationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    timezone: str = "UTC"
    channel: str | None = None
    usergroup: str | None = None
    secondary: bool = False
    members: list[dict] = Field(default_factory=list)
