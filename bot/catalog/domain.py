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
    # PagerDuty service id (Backstage `pagerduty.com/service-id`): kept for reference, not used to page.
    pagerduty_service_id: str | None = None
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


class CatalogConfig(BaseModel):
    """`catalog:` section: where else services come from."""

    model_config = ConfigDict(extra="forbid")
    # Globs (relative to firewatch.yaml) of Backstage `catalog-info.yaml` files; their Components join `services:`.
    backstage_paths: list[str] = Field(default_factory=list)


def declared_service(title: str, services: list[ServiceConfig]) -> str | None:
    """The service a declare names by starting its title with `<service>:` (`checkout: Payments failing`);
    None when the word before the colon is not a catalog service."""
    match = re.match(r"^\s*([\w.-]+)\s*:\s", title + " ")
    if not match:
        return None
    word = match.group(1).lower()
    return next((s.name for s in services if s.name.lower() == word), None)


def services_in_title(title: str, services: list[ServiceConfig]) -> list[str]:
    """Catalog services whose name appears as a whole word in the title."""
    return [s.name for s in services if re.search(rf"(?<![\w-]){re.escape(s.name)}(?![\w-])", title, re.IGNORECASE)]


def services_for(title: str, label_services: list[str], services: list[ServiceConfig]) -> list[ServiceConfig]:
    """The catalog services of an incident, each once: the one named at declare (`checkout: ...`), then those
    its alerts' labels name, then those whose name appears in the title."""
    names = [n for n in [declared_service(title, services)] if n] + list(label_services)
    names += services_in_title(title, services)
    by_name = {s.name.lower(): s for s in services}
    found: list[ServiceConfig] = []
    for name in names:
        svc = by_name.get(name.strip().lower())
        if svc is not None and svc not in found:
            found.append(svc)
    return found


def bookmark_links(service: ServiceConfig) -> list[tuple[str, str, str]]:
    """`(kind, title, link)` of the channel bookmarks a service brings: its runbook, then its dashboards."""
    links = [("runbook", f"{service.name} runbook", service.runbook)] if service.runbook else []
    many = len(service.dashboards) > 1
    links += [("dashboard", f"{service.name} dashboard{f' {i}' if many else ''}", url)
              for i, url in enumerate(service.dashboards, start=1)]
    return links


def bridge_link(template: str | None, number: int, channel: str) -> str | None:
    """`incidents.bridge_url` with `{number}` and `{channel}` filled in; None when unset or not a valid template."""
    if not template:
        return None
    try:
        return template.format(number=number, channel=channel)
    except (KeyError, IndexError, ValueError):
        return None


def _route_problems(config) -> list[str]:
    """Alert routes naming a service: it must exist and have an escalation policy or an owner to page."""
    problems: list[str] = []
    by_name = {s.name.lower(): s for s in config.services}
    for i, route in enumerate(config.alert_routes):
        if not route.service:
            continue
        svc = by_name.get(route.service.strip().lower())
        known = ", ".join(sorted(s.name for s in config.services)) or "none are configured under services:"
        if svc is None:
            problems.append(f"alert_routes[{i}].service: unknown service {route.service!r} (known: {known})")
        elif not route.policy and not svc.escalation_policy and not svc.owner:
            problems.append(f"alert_routes[{i}].service: service {svc.name!r} has neither escalation_policy nor "
                            "owner, so the route would page nobody; give the service one, or the route a policy")
    return problems


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
    problems += _route_problems(config)
    bridge = config.incidents.bridge_url
    if bridge and bridge_link(bridge, 1, "C0") is None:
        problems.append(f"incidents.bridge_url: {bridge!r} is not a valid template (only {{number}} and {{channel}} "
                        "are filled in)")
    elif bridge and not re.match(r"^https?://\S+$", bridge_link(bridge, 1, "C0") or ""):
        problems.append(f"incidents.bridge_url: {bridge!r} is not an http(s) URL")
    return problems
