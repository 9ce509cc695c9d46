"""`services:` section of firewatch.yaml (plain Python)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ServiceConfig(BaseModel):
    """One service of the catalog."""

    model_config = ConfigDict(extra="forbid")
    name: str
    # PromQL expressions whose series are evidence for this service's incidents (bot.telemetry).
    queries: list[str] = Field(default_factory=list)


def cross_check(config) -> list[str]:
    """Problems spanning sections (unknown rotations, policies), one `key.path: message` line each."""
    return []
