"""`escalation_policies:`, `alert_routes:` and `webhooks:` sections of firewatch.yaml.

These models only check what can be checked locally (formats, ranges, non-empty lists). Cross-references that need
the whole file (does `rotation:payments` exist, does a route's `policy` exist, are severity names among
`incidents.severities`) are checked by `bot.config.FirewatchConfig`.

Every validator raises ValueError with a full sentence: `bot.config` turns it into a `key.path: message` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.core.durations import parse_duration
from bot.core.mentions import USER_ID
from bot.slack_ids import ChannelId, EnvVarName

_SEVERITY_NAME = re.compile(r"^sev[0-9]$")
_ROTATION_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_NOTIFY = re.compile(rf"(?:rotation:{_ROTATION_NAME}(?::(?:primary|secondary))?|user:{USER_ID})")

NOTIFY_HELP = "use rotation:NAME, rotation:NAME:primary, rotation:NAME:secondary or user:U0123ABCD"

# Alert label value (lower-cased) -> incident severity. Configurable per route with `severity_map`.
DEFAULT_SEVERITY_MAP: dict[str, str] = {"critical": "sev1", "error": "sev2", "warning": "sev3", "info": "sev4"}


def _severity_name(value: str) -> str:
    if not isinstance(value, str) or not _SEVERITY_NAME.match(value):
        raise ValueError(f"{value!r} is not a severity name: use sev1..sev9")
    return value


SeverityName = Annotated[str, AfterValidator(_severity_name)]


@dataclass(frozen=True)
class NotifyTarget:
    """Who a step pages: a rotation's current primary/secondary, or one Slack user."""

    kind: str  # "rotation" | "user"
    name: str  # rotation name or Slack user id
    role: str = "primary"  # "primary" | "secondary"; always "primary" for users

    def describe(self) -> str:
        """Human wording for messages: `payments (secondary)` or the user id."""
        if self.kind == "rotation":
            return self.name if self.role == "primary" else f"{self.name} ({self.role})"
        return self.name


class EscalationStepConfig(BaseModel):
    """One step: who to notify, and how long to wait for an acknowledgement before the next step."""

    model_config = ConfigDict(extra="forbid")

    notify: str
    timeout: timedelta = timedelta(minutes=5)

    @field_validator("notify")
    @classmethod
    def _notify(cls, value: str) -> str:
        if not _NOTIFY.fullmatch(value):
            raise ValueError(f"{value!r} is not a notify target: {NOTIFY_HELP}")
        return value

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> timedelta:
        # The one duration grammar (bot.core.durations); a bare number is refused there as ambiguous.
        return parse_duration(value)

    def target(self) -> NotifyTarget:
        """The parsed `notify` value."""
        kind, _, rest = self.notify.partition(":")
        name, _, role = rest.partition(":")
        return NotifyTarget(kind=kind, name=name, role=role or "primary")


class PagerDutyMirrorConfig(BaseModel):
    """Mirror this policy's pages to a PagerDuty service (Events API v2 integration)."""

    model_config = ConfigDict(extra="forbid")

    # The routing key is a secret, so the file only names the environment variable holding it.
    routing_key_env: EnvVarName


class EscalationPolicyConfig(BaseModel):
    """An ordered list of steps, walked `repeat` times; then paging stops and `channel` is told."""

    model_config = ConfigDict(extra="forbid")

    name: str
    steps: list[EscalationStepConfig] = Field(default_factory=list)
    repeat: int = 1
    pagerduty: PagerDutyMirrorConfig | None = None
    channel: ChannelId | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an escalation policy needs a non-empty name")
        return value

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: list[EscalationStepConfig]) -> list[EscalationStepConfig]:
        if not value:
            raise ValueError("an escalation policy needs at least one step")
        return value

    @field_validator("repeat")
    @classmethod
    def _repeat(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"repeat must be at least 1 (the number of passes through the steps), got {value}")
        return value


class AlertRouteConfig(BaseModel):
    """Send alerts whose labels equal every `match` entry to `policy` (first matching route wins).

    A route may name a catalog `service` instead of (or as well as) a policy: the page then follows the service's
    escalation policy, else its owner rotation's (`bot.paging.domain.routing.policy_for_route`), and the incident
    is the service's (owner invited, runbook bookmarked). An explicit `policy` wins over the service's.
    An empty `match` matches every alert, which makes a catch-all route when placed last.
    """

    model_config = ConfigDict(extra="forbid")

    match: dict[str, str] = Field(default_factory=dict)
    policy: str | None = None
    service: str | None = None
    open_incident: bool = False
    severity_label: str = "severity"
    # Keys are compared case-insensitively (Alertmanager rules say "critical", "Critical" or "CRITICAL" alike).
    severity_map: dict[str, SeverityName] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY_MAP))

    @field_validator("match")
    @classmethod
    def _match(cls, value: dict[str, str]) -> dict[str, str]:
        empty = [k for k in value if not k.strip()]
        if empty:
            raise ValueError("label names in match must not be empty")
        return value

    @model_validator(mode="after")
    def _policy_or_service(self) -> "AlertRouteConfig":
        if not (self.policy or "").strip() and not (self.service or "").strip():
            raise ValueError("a route needs a policy (an escalation policy name) or a service (a catalog service "
                             "whose policy or owner rotation is paged)")
        return self

    @field_validator("severity_label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("severity_label must name a label, like severity")
        return value

    @field_validator("severity_map")
    @classmethod
    def _map(cls, value: dict[str, str]) -> dict[str, str]:
        lowered: dict[str, str] = {}
        for key, sev in value.items():
            low = key.strip().lower()
            if not low:
                raise ValueError("severity_map keys must be non-empty label values, like critical")
            if low in lowered and lowered[low] != sev:
                raise ValueError(f"severity_map maps {key!r} twice with different severities (keys ignore case)")
            lowered[low] = sev
        return lowered


class WebhooksConfig(BaseModel):
    """Alert intake: the bearer token's environment variable and where unrouted alerts are reported."""

    model_config = ConfigDict(extra="forbid")

    token_env: EnvVarName = "FIREWATCH_WEBHOOK_TOKEN"
    fallback_channel: ChannelId | None = None
    # A cap on alerts per request so one huge payload cannot flood Slack; Alertmanager's own max_alerts is similar.
    max_alerts: int = 200
    # An alert group firing again within this long after its incident was resolved reopens that incident; later
    # (and always with the default 0) it opens a new incident linked to the old one as "recurred".
    reopen_within: timedelta = timedelta(0)

    @field_validator("reopen_within", mode="before")
    @classmethod
    def _reopen(cls, value: Any) -> timedelta:
        return parse_duration(value, allow_zero=True)

    @field_validator("max_alerts")
    @classmethod
    def _max(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"max_alerts must be at least 1, got {value}")
        return value
