"""`evidence:` and `slos:` sections of firewatch.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class EvidenceConfig(BaseModel):
    """Where evidence comes from (`evidence.prometheus: {url, token_env}`)."""

    model_config = ConfigDict(extra="forbid")


class SloConfig(BaseModel):
    """One SLO: SLI as good/total PromQL, objective, window."""

    model_config = ConfigDict(extra="forbid")
    name: str


def cross_check(config) -> list[str]:
    """Problems spanning sections (unknown services), one `key.path: message` line each."""
    return []
