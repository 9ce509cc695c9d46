"""`contacts:` and `heartbeats:` sections of firewatch.yaml.

```yaml
contacts:
  - user: U0ANA
    methods:
      - {type: sms, to: "+447700900123"}
      - {type: push, url: "https://ntfy.example.com/ana-7f3a"}
    rules:
      - {after: 0s, via: [slack, push]}
      - {after: 1m, via: [sms]}
heartbeats:
  - {name: alertmanager-watchdog, interval: 5m, grace: 1m, policy: payments}
```
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.core.durations import parse_duration
from bot.slack_ids import UserId

MethodType = Literal["sms", "voice", "push", "email"]
# `slack` is the page DM itself (paging sends it); a rule naming it documents the order and sends nothing more.
Channel = Literal["slack", "sms", "voice", "push", "email"]

PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Apprise URLs are `<scheme>://...`; ntfy-style push is plain http(s).
PUSH_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")
HEARTBEAT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# A notification rule later than this is a typo (the page has long escalated past the person).
MAX_RULE_DELAY = timedelta(hours=24)
TWILIO_SECRET_ENV = "TWILIO_AUTH_TOKEN"


def method_problem(kind: str, address: str) -> str | None:
    """Why `address` is not usable for `kind`, or None (shared by YAML and `/oncall contact add`)."""
    if kind in ("sms", "voice") and not PHONE.match(address):
        return f"{address!r} is not a phone number in international form (like +447700900123)"
    if kind == "email" and not EMAIL.match(address):
        return f"{address!r} is not an email address (like ana@example.com)"
    if kind == "push" and not PUSH_URL.match(address):
        return f"{address!r} is not a push URL (an ntfy topic like https://ntfy.sh/ana-7f3a, or an Apprise URL)"
    if kind not in ("sms", "voice", "email", "push"):
        return f"{kind!r} is not a contact method: use sms, voice, push or email"
    return None


class ContactMethodConfig(BaseModel):
    """One way to reach a person: `to` for sms/voice/email, `url` for push."""

    model_config = ConfigDict(extra="forbid")
    type: MethodType
    to: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _address(self) -> "ContactMethodConfig":
        wanted, other = ("url", "to") if self.type == "push" else ("to", "url")
        if getattr(self, other) is not None:
            raise ValueError(f"a {self.type} method takes `{wanted}`, not `{other}`")
        value = getattr(self, wanted)
        if not value:
            raise ValueError(f"a {self.type} method needs `{wanted}`")
        problem = method_problem(self.type, value)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def address(self) -> str:
        return self.url if self.type == "push" else self.to  # type: ignore[return-value]


class NotificationRuleConfig(BaseModel):
    """`after` this long since the page reached the person, notify `via` these methods."""

    model_config = ConfigDict(extra="forbid")
    after: timedelta
    via: list[Channel] = Field(min_length=1)

    @field_validator("after", mode="before")
    @classmethod
    def _after(cls, value: object) -> timedelta:
        return parse_duration(value, allow_zero=True, maximum=MAX_RULE_DELAY)


class ContactConfig(BaseModel):
    """One person's contact methods and notification rules."""

    model_config = ConfigDict(extra="forbid")
    user: UserId
    methods: list[ContactMethodConfig] = Field(default_factory=list)
    rules: list[NotificationRuleConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rules_use_known_methods(self) -> "ContactConfig":
        have = {m.type for m in self.methods}
        for i, rule in enumerate(self.rules):
            missing = [v for v in rule.via if v != "slack" and v not in have]
            if missing:
                raise ValueError(f"rules[{i}].via: {', '.join(missing)} named but {self.user} has no such method "
                                 "(add it under methods)")
        return self


class HeartbeatConfig(BaseModel):
    """A dead man's switch: pages `policy` when no beat arrives within `interval` + `grace`."""

    model_config = ConfigDict(extra="forbid")
    name: str
    interval: timedelta
    grace: timedelta = timedelta(minutes=1)
    policy: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not HEARTBEAT_NAME.match(value):
            raise ValueError(f"{value!r} is not a heartbeat name: use 1-63 of a-z, 0-9, '-' and '_' (it is a URL path)")
        return value

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: object) -> timedelta:
        return parse_duration(value)

    @field_validator("grace", mode="before")
    @classmethod
    def _grace(cls, value: object) -> timedelta:
        return parse_duration(value, allow_zero=True)

    @property
    def deadline(self) -> timedelta:
        return self.interval + self.grace


def cross_check(config) -> list[str]:
    """Problems spanning sections (unknown policies, users), one `key.path: message` line each."""
    problems: list[str] = []
    users = [c.user for c in config.contacts]
    for user in sorted({u for u in users if users.count(u) > 1}):
        problems.append(f"contacts: {user} is listed twice; give each person one entry")
    names = [h.name for h in config.heartbeats]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"heartbeats: duplicate heartbeat name {name!r}")
    policies = {p.name for p in config.escalation_policies}
    for i, heartbeat in enumerate(config.heartbeats):
        if heartbeat.policy not in policies:
            problems.append(f"heartbeats[{i}].policy: unknown escalation policy {heartbeat.policy!r}")
    return problems


def secret_env_names(config) -> list[str]:
    """The Twilio auth token is a secret whatever the configuration says."""
    return [TWILIO_SECRET_ENV]
