"""`postmortems:` section of firewatch.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PostmortemsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    repo: str | None = None
    branch: str = "main"
