"""Choosing an alert route (and so an escalation policy) for an alert, and the incident severity it implies.

Routes are tried in file order and the first whose `match` labels all equal the alert's labels wins, like a
firewall rule list: predictable, and a catch-all (empty `match`) belongs last.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from bot.paging.domain.alerts import Alert
from bot.paging.domain.config import DEFAULT_SEVERITY_MAP, AlertRouteConfig

_SEV_NUMBER = re.compile(r"^sev([0-9])$")


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
