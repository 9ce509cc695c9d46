"""`escalation_policies:`, `alert_routes:` and `webhooks:` sections of firewatch.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class NotifyTarget:
    kind: str  # "rotation" | "user"
    name: str
    role: str = "primary"


class EscalationStepConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notify: str
    timeout: str = "5m"

    def target(self) -> NotifyTarget:
        kind, _, rest = self.notify.partition(":")
        name, _, role = rest.partition(":")
        return NotifyTarget(kind=kind, name=name, role=role or "primary")


class EscalationPolicyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    steps: list[EscalationStepConfig] = Field(default_factory=list)
    repeat: int = 1


class AlertRouteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match: dict[str, str] = Field(default_factory=dict)
    policy: str
    open_incident: bool = False


class WebhooksConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token_env: str = "FIREWATCH_WEBHOOK_TOKEN"
