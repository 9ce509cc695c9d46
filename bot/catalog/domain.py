"""`services:` section of firewatch.yaml (plain Python): the service catalog."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.slack_ids import ChannelId

# `github:<owner>/<repo>` or `jira:<PROJECT KEY>`: where a service's follow-ups become issues.
TRACKER = re.compile(r"^(github):([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)$|^(jira):([A-Z][A-Z0-9_]{0,9})$")


class ServiceConfig(BaseModel):
    """One service of the catalog."""

    model_config = ConfigDict(extra="forbid")
    name: str
    # Rotation owning the service (its on-call is the service's owner).
    owner: str | None = None
    escalation_policy: str | None = None
    # Follow-up destination: `github:owner/repo` or `jira:KEY`.
    tracker: str | None = None
    runbook: str | None = None
    dashboards: list[str] = Field(default_factory=list)
    channel: ChannelId | None = None
    # PromQL expressions whose series are evidence for this service's incidents (bot.telemetry).
    queries: list[str] = Field(default_factory=list)

    @field_validator("tracker")
    @classmethod
    def _tracker(cls, value: str | None) -> str | None:
        if value is not None and not TRACKER.match(value):
            raise ValueError(f"{value!r} is not a tracker: use `github:owner/repo` or `jira:PROJECTKEY`")
        return value

    @field_validator("runbook", "dashboards")
    @classmethod
    def _links(cls, value):
        for link in [value] if isinstance(value, str) else (value or []):
            if not re.match(r"^https?://\S+$", link):
                raise ValueError(f"{link!r} is not an http(s) URL")
        return value

    @property
    def tracker_kind(self) -> str | None:
        return self.tracker.split(":", 1)[0] if self.tracker else None

    @property
    def tracker_project(self) -> str | None:
        return self.tracker.split(":", 1)[1] if self.tracker else None


def cross_check(config) -> list[str]:
    """Problems spanning sections (unknown rotations, policies), one `key.path: message` line each."""
    problems: list[str] = []
    names = [s.name for s in config.services]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"services: duplicate service name {name!r}")
    rotations = {r.name for r in config.rotations}
    policies = {p.name for p in config.escalation_policies}
    for i, svc in enumerate(config.services):
        if svc.owner and svc.owner not in rotations:
            problems.append(f"services[{i}].owner: unknown rotation {svc.owner!r}")
        if svc.escalation_policy and svc.escalation_policy not in policies:
            problems.append(f"services[{i}].escalation_policy: unknown escalation policy {svc.escalation_policy!r}")
    return problems
