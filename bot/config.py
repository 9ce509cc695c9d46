"""Team configuration (`firewatch.yaml`): pydantic models, loading and `config check`.

Each domain package owns the model of its own section (rotations, escalation policies, LLM, postmortems); this
module assembles them and turns validation errors into one line per problem with its key path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.assist.domain.config import LLMConfig
from bot.catalog import domain as catalog_domain
from bot.catalog import backstage as catalog_backstage
from bot.catalog.domain import CatalogConfig, ServiceConfig
from bot.contacts.domain import config as contacts_config
from bot.contacts.domain.config import ContactConfig, HeartbeatConfig
from bot.followups import domain as followups_domain
from bot.followups.domain import FollowupsConfig
from bot.paging.domain.config import AlertRouteConfig, EscalationPolicyConfig, WebhooksConfig
from bot.postmortems.domain.config import PostmortemsConfig
from bot.rotations.domain.config import RotationConfig
from bot.rotations.domain.pay import PayConfig
from bot.slack_ids import ChannelId, UserId
from bot.telemetry.domain import config as telemetry_config
from bot.telemetry.domain.config import EvidenceConfig, SloConfig, SlosDigestConfig

SEVERITY_NAME = re.compile(r"^sev[0-9]$")


class StrictModel(BaseModel):
    """Base for config sections: unknown keys are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class Severity(StrictModel):
    name: str
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not SEVERITY_NAME.match(value):
            raise ValueError(f"severity name {value!r} must look like sev1..sev9")
        return value


DEFAULT_SEVERITIES = [
    Severity(name="sev1", description="Critical: customer-facing outage or data loss; all hands."),
    Severity(name="sev2", description="Major: significant degradation for many customers."),
    Severity(name="sev3", description="Minor: limited impact or a workaround exists."),
    Severity(name="sev4", description="Low: no customer impact yet; worth tracking."),
]


class IncidentsConfig(StrictModel):
    announcements_channel: ChannelId | None = None
    # Private incidents are announced here only (never in `announcements_channel`); unset: not announced at all.
    private_announcements_channel: ChannelId | None = None
    channel_prefix: str = "inc"
    severities: list[Severity] = Field(default_factory=lambda: list(DEFAULT_SEVERITIES))
    default_severity: str = "sev3"
    invite_rotations: list[str] = Field(default_factory=list)
    # Declared incidents get private channels unless the declare form says otherwise (security-heavy teams).
    private_by_default: bool = False
    # Remind the channel when the commander has posted no update for this long, per severity (`{sev1: 30m}`).
    update_reminder: dict[str, str] = Field(default_factory=dict)
    # Video bridge link bookmarked in each incident channel; `{channel}` and `{number}` are filled in.
    bridge_url: str | None = None

    @field_validator("channel_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,19}", value):
            raise ValueError(
                f"{value!r} is not a valid channel prefix: use 1-20 of a-z, 0-9, '-' and '_', starting with a letter or digit"
            )
        return value

    @field_validator("severities")
    @classmethod
    def _severities(cls, value: list[Severity]) -> list[Severity]:
        if not value:
            raise ValueError("at least one severity is needed")
        names = [s.name for s in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate severities: {', '.join(dupes)}")
        return value

    @model_validator(mode="after")
    def _default_known(self) -> "IncidentsConfig":
        names = [s.name for s in self.severities]
        if self.default_severity not in names:
            raise ValueError(f"default_severity {self.default_severity!r} is not one of the severities ({', '.join(names)})")
        return self

    @property
    def severity_names(self) -> list[str]:
        return [s.name for s in self.severities]


class FirewatchConfig(StrictModel):
    """The whole `firewatch.yaml`."""

    admins: list[UserId] = Field(default_factory=list)
    incidents: IncidentsConfig = Field(default_factory=IncidentsConfig)
    rotations: list[RotationConfig] = Field(default_factory=list)
    escalation_policies: list[EscalationPolicyConfig] = Field(default_factory=list)
    alert_routes: list[AlertRouteConfig] = Field(default_factory=list)
    webhooks: WebhooksConfig = Field(default_factory=WebhooksConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    postmortems: PostmortemsConfig = Field(default_factory=PostmortemsConfig)
    contacts: list[ContactConfig] = Field(default_factory=list)
    heartbeats: list[HeartbeatConfig] = Field(default_factory=list)
    services: list[ServiceConfig] = Field(default_factory=list)
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)
    followups: FollowupsConfig = Field(default_factory=FollowupsConfig)
    evidence: EvidenceConfig = Field(default_factory=EvidenceConfig)
    slos: list[SloConfig] = Field(default_factory=list)
    slos_digest: SlosDigestConfig | None = None  # weekly SLO digest (bot.telemetry)
    pay: PayConfig = Field(default_factory=PayConfig)  # on-call pay rates (`firewatch report pay`)

    @model_validator(mode="after")
    def _cross_references(self) -> "FirewatchConfig":
        """Checks that span sections: names that must exist, and resources two things must not share."""
        problems: list[str] = []
        rotation_names = [r.name for r in self.rotations]
        for name in sorted({n for n in rotation_names if rotation_names.count(n) > 1}):
            problems.append(f"rotations: duplicate rotation name {name!r}")
        groups: dict[str, str] = {}
        for i, rotation in enumerate(self.rotations):
            if rotation.usergroup and rotation.usergroup in groups:
                # Two rotations writing one user group would overwrite each other at every handoff.
                problems.append(f"rotations[{i}].usergroup: {rotation.usergroup} is already kept in sync by rotation "
                                f"{groups[rotation.usergroup]!r}; give each rotation its own user group")
            elif rotation.usergroup:
                groups[rotation.usergroup] = rotation.name
        for i, name in enumerate(self.incidents.invite_rotations):
            if name not in rotation_names:
                problems.append(f"incidents.invite_rotations[{i}]: unknown rotation {name!r}")
        policy_names = [p.name for p in self.escalation_policies]
        for name in sorted({n for n in policy_names if policy_names.count(n) > 1}):
            problems.append(f"escalation_policies: duplicate policy name {name!r}")
        for i, policy in enumerate(self.escalation_policies):
            for j, step in enumerate(policy.steps):
                target = step.target()
                if target.kind != "rotation":
                    continue
                rotation = self.rotation(target.name)
                if rotation is None:
                    problems.append(f"escalation_policies[{i}].steps[{j}].notify: unknown rotation {target.name!r}")
                elif target.role == "secondary" and not rotation.secondary:
                    problems.append(f"escalation_policies[{i}].steps[{j}].notify: rotation {target.name!r} has no "
                                    "secondary (set secondary: true on the rotation, or page its primary)")
        severities = set(self.incidents.severity_names)
        for i, route in enumerate(self.alert_routes):
            if route.policy is not None and route.policy not in policy_names:  # service routes: bot.catalog
                problems.append(f"alert_routes[{i}].policy: unknown escalation policy {route.policy!r}")
            unknown = sorted({v for v in route.severity_map.values() if v not in severities})
            if unknown:
                problems.append(f"alert_routes[{i}].severity_map: {', '.join(unknown)} not among the configured "
                                f"severities ({', '.join(self.incidents.severity_names)})")
        # Each newer feature checks its own cross-references.
        for feature in (contacts_config, catalog_domain, followups_domain, telemetry_config):
            problems += feature.cross_check(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def service(self, name: str) -> ServiceConfig | None:
        return next((s for s in self.services if s.name == name), None)

    def secret_env_names(self) -> list[str]:
        """Names of the environment variables this file says hold secrets (webhook token, PagerDuty routing keys,
        GitHub and LLM keys): their values are removed from anything sent to an LLM, whatever the names are."""
        names = [self.webhooks.token_env, self.postmortems.github.token_env, self.llm.api_key_env]
        names += [p.pagerduty.routing_key_env for p in self.escalation_policies if p.pagerduty is not None]
        for feature in (contacts_config, catalog_domain, followups_domain, telemetry_config):
            if hasattr(feature, "secret_env_names"):
                names += feature.secret_env_names(self)
        return sorted(set(names))

    def rotation(self, name: str) -> RotationConfig | None:
        return next((r for r in self.rotations if r.name == name), None)

    def policy(self, name: str) -> EscalationPolicyConfig | None:
        return next((p for p in self.escalation_policies if p.name == name), None)


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; `problems` holds one line per problem."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def format_validation_error(error: ValidationError) -> list[str]:
    """One `key.path: message` line per problem, in document order."""
    lines: list[str] = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if p not in ("function-after[_cross_references(), FirewatchConfig]",))
        msg = item["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if item["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling)"
        # Model-level checks report several already-pathed problems in one error; prefix them with the section.
        if "\n" in msg or (not loc and ": " in msg):
            prefix = f"{_key_path(loc)}: " if loc else ""
            lines.extend(prefix + line for line in msg.splitlines())
        else:
            lines.append(f"{_key_path(loc)}: {msg}")
    return lines


def parse_config(data: Any, source: str = "<config>") -> FirewatchConfig:
    """Validate already-loaded YAML data; raise ConfigError listing every problem."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, ["(top level): the file must be a YAML mapping of sections"])
    try:
        return FirewatchConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, format_validation_error(exc)) from None


def load_config(path: str | Path, *, missing_ok: bool = False) -> FirewatchConfig:
    """Read and validate `firewatch.yaml`. With `missing_ok`, a missing file gives the defaults."""
    p = Path(path)
    if not p.exists():
        if missing_ok:
            return FirewatchConfig()
        raise ConfigError(str(p), ["(file): not found; create it or point FIREWATCH_CONFIG at it"])
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(p), [f"(yaml): {problem} at {where}"]) from None
    except OSError as exc:
        raise ConfigError(str(p), [f"(file): cannot read: {exc.strerror}"]) from None
    if isinstance(data, dict):  # Backstage catalog files named in `catalog.backstage_paths` join `services:`
        data, problems = catalog_backstage.expand(data, p.parent)
        if problems:
            raise ConfigError(str(p), problems)
    return parse_config(data, str(p))
