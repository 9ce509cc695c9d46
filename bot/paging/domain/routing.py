"""Choosing an alert route (and so an escalation policy) for an alert, and the incident severity it implies.

Routes are tried in file order and the first whose `match` labels all equal the alert's labels wins, like a
firewall rule list: predictable, and a catch-all (empty `match`) belongs last.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.paging.domain.alerts import Alert
from bot.paging.domain.config import DEFAULT_SEVERITY_MAP, AlertRouteConfig, EscalationPolicyConfig

if TYPE_CHECKING:  # the catalog's model; routing only reads name, owner and escalation_policy
    from bot.catalog.domain import ServiceConfig

_SEV_NUMBER = re.compile(r"^sev([0-9])$")
# A policy made up on the spot for one rotation or user; bot.paging.flows resolves it (same value as its
# ADHOC_PREFIX, which should import this one).
ADHOC_PREFIX = "adhoc:"
# The alert label naming a catalog service, for alerts no route matches.
SERVICE_LABEL = "service"


def _labels_of(alert_or_labels: Alert | Mapping[str, str]) -> Mapping[str, str]:
    return alert_or_labels.labels if isinstance(alert_or_labels, Alert) else alert_or_labels


def route_matches(route: AlertRouteConfig, labels: Mapping[str, str]) -> bool:
    """True when every `match` label is present with exactly that value (case-sensitive, like Alertmanager)."""
    return all(labels.get(name) == value for name, value in route.match.items())


def route_alert(
    alert_or_labels: Alert | Mapping[str, str], routes: Sequence[AlertRouteConfig]
) -> AlertRouteConfig | None:
    """The first route matching the alert's labels, or None (the caller reports it to `webhooks.fallback_channel`)."""
    labels = _labels_of(alert_or_labels)
    return next((route for route in routes if route_matches(route, labels)), None)


def find_service(services: Sequence[ServiceConfig], name: str | None) -> ServiceConfig | None:
    """The catalog service called `name` (exact name first, then ignoring case), or None."""
    if not name or not name.strip():
        return None
    wanted = name.strip()
    return (next((s for s in services if s.name == wanted), None)
            or next((s for s in services if s.name.lower() == wanted.lower()), None))


def policy_for_rotation(policies: Sequence[EscalationPolicyConfig], rotation: str) -> str:
    """The configured policy whose first step pages this rotation, else the ad-hoc one for it."""
    for policy in policies:
        first = policy.steps[0].target()
        if first.kind == "rotation" and first.name == rotation:
            return policy.name
    return f"{ADHOC_PREFIX}rotation:{rotation}"


def service_policy(service: ServiceConfig, policies: Sequence[EscalationPolicyConfig]) -> str | None:
    """A service's escalation policy, else its owner rotation's (`policy_for_rotation`); None with neither."""
    if service.escalation_policy:
        return service.escalation_policy
    return policy_for_rotation(policies, service.owner) if service.owner else None


def policy_for_route(route: AlertRouteConfig, services: Sequence[ServiceConfig],
                     policies: Sequence[EscalationPolicyConfig] = ()) -> str | None:
    """The policy a route pages: its own `policy`, else its service's (see `service_policy`); None when neither
    resolves (the configuration check refuses such routes)."""
    if route.policy:
        return route.policy
    service = find_service(services, route.service)
    return service_policy(service, policies) if service is not None else None


def route_for(alert_or_labels: Alert | Mapping[str, str], routes: Sequence[AlertRouteConfig],
              services: Sequence[ServiceConfig] = (),
              policies: Sequence[EscalationPolicyConfig] = ()) -> AlertRouteConfig | None:
    """`route_alert`, else, for an alert whose `service` label names a catalog service with a policy or an owner,
    a route to that service (so the catalog is enough to page its owner); None when nothing applies."""
    route = route_alert(alert_or_labels, routes)
    if route is not None:
        return route
    service = find_service(services, _labels_of(alert_or_labels).get(SERVICE_LABEL))
    if service is None or service_policy(service, policies) is None:
        return None
    return AlertRouteConfig(service=service.name)


def service_title(route: AlertRouteConfig | None, title: str) -> str:
    """`checkout: <title>` when the route names a service the title does not already name as a word, so the
    incident opened for the alerts is found to be that service's (`bot.catalog.domain.services_in_title`)."""
    if route is None or not route.service:
        return title
    if re.search(rf"(?<![\w-]){re.escape(route.service)}(?![\w-])", title, re.IGNORECASE):
        return title
    return f"{route.service}: {title}"


def route_index(alert_or_labels: Alert | Mapping[str, str], routes: Sequence[AlertRouteConfig]) -> int | None:
    """Like `route_alert` but the position in `routes` (handy as a stable key when grouping alerts by route)."""
    labels = _labels_of(alert_or_labels)
    return next((i for i, route in enumerate(routes) if route_matches(route, labels)), None)


def map_severity(
    value: str | None, severity_map: Mapping[str, str] | None = None
) -> str | None:
    """Map a label value such as `critical` or `Warning` to an incident severity (`sev1`...), or None if unknown."""
    if value is None:
        return None
    table = DEFAULT_SEVERITY_MAP if severity_map is None else severity_map
    return table.get(value.strip().lower())


def severity_for(alert_or_labels: Alert | Mapping[str, str], route: AlertRouteConfig | None = None) -> str | None:
    """The incident severity an alert implies under `route` (default label `severity`, default map).

    None when the label is missing or its value is not in the map: the caller then uses
    `incidents.default_severity` rather than guessing.
    """
    labels = _labels_of(alert_or_labels)
    label = route.severity_label if route else "severity"
    table = route.severity_map if route else None
    return map_severity(labels.get(label), table)


def highest_severity(severities: Iterable[str | None]) -> str | None:
    """The most severe of several `sevN` names (sev1 beats sev3); None if none is known.

    An incident opened for a group of alerts takes the worst severity among them.
    """
    best: tuple[int, str] | None = None
    for sev in severities:
        match = _SEV_NUMBER.match(sev or "")
        if match and (best is None or int(match.group(1)) < best[0]):
            best = (int(match.group(1)), sev)  # type: ignore[assignment]
    return best[1] if best else None
