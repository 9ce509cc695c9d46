"""First-match alert routing and the severity map."""

from __future__ import annotations

import pytest

from bot.paging.domain.alerts import parse_webhook
from bot.paging.domain.config import AlertRouteConfig
from bot.paging.domain.routing import highest_severity, map_severity, route_alert, route_index, severity_for
from tests.paging.payloads import load_json, load_text

ROUTES = [
    AlertRouteConfig(match={"team": "payments", "env": "prod"}, policy="payments-prod"),
    AlertRouteConfig(match={"team": "payments"}, policy="payments"),
    AlertRouteConfig(match={"team": "blue"}, policy="blue", severity_label="level",
                     severity_map={"high": "sev1", "low": "sev4"}),
    AlertRouteConfig(match={"job": "node"}, policy="infra"),
]


def test_first_match_wins():
    assert route_alert({"team": "payments", "env": "prod", "x": "y"}, ROUTES).policy == "payments-prod"
    assert route_alert({"team": "payments", "env": "staging"}, ROUTES).policy == "payments"
    # Both payments routes match an alert with team=payments,env=prod; order decides, not specificity.
    reordered = [ROUTES[1], ROUTES[0]]
    assert route_alert({"team": "payments", "env": "prod"}, reordered).policy == "payments"


def test_all_match_labels_must_be_equal():
    assert route_alert({"env": "prod"}, ROUTES) is None
    assert route_alert({"team": "Payments"}, ROUTES) is None  # values are case-sensitive
    assert route_alert({}, ROUTES) is None


def test_catch_all_route():
    routes = ROUTES + [AlertRouteConfig(policy="everything")]
    assert route_alert({"anything": "else"}, routes).policy == "everything"
    assert route_index({"anything": "else"}, routes) == 4
    assert route_index({"anything": "else"}, ROUTES) is None


def test_routes_reference_payloads():
    grafana = parse_webhook(load_text("grafana_webhook_firing.json"))
    assert [route_alert(a, ROUTES).policy for a in grafana.alerts] == ["blue", "blue"]
    oncall = parse_webhook(load_json("alertmanager_firing_2alerts_oncall.json"))
    assert [route_alert(a, ROUTES).policy for a in oncall.alerts] == ["infra", "infra"]
    fire = parse_webhook(load_text("alertmanager_firing.json"))
    assert route_alert(fire.alerts[0], ROUTES) is None  # labels: alertname, severity only


@pytest.mark.parametrize(
    "value, expected",
    [("critical", "sev1"), ("error", "sev2"), ("warning", "sev3"), ("info", "sev4"),
     ("Warning", "sev3"), (" CRITICAL ", "sev1"), ("page", None), (None, None)],
)
def test_default_severity_map(value, expected):
    assert map_severity(value) == expected


def test_severity_for_uses_route_label_and_map():
    route = ROUTES[2]
    assert severity_for({"level": "HIGH", "severity": "info"}, route) == "sev1"
    assert severity_for({"severity": "critical"}, route) is None  # this route reads `level`
    assert severity_for({"level": "critical"}, route) is None  # and has its own map
    assert severity_for({"severity": "critical"}) == "sev1"  # no route: defaults


def test_severity_from_reference_payloads():
    resolved = parse_webhook(load_text("alertmanager_resolved_with_fingerprint.json")).alerts[0]
    assert severity_for(resolved, ROUTES[1]) == "sev3"  # "Warning" with a capital W
    oncall = parse_webhook(load_json("alertmanager_firing_2alerts_oncall.json")).alerts[0]
    assert severity_for(oncall, ROUTES[3]) == "sev1"
    grafana = parse_webhook(load_text("grafana_webhook_firing.json")).alerts[0]
    assert severity_for(grafana, ROUTES[2]) is None  # no severity label at all


def test_severity_map_from_config_is_case_insensitive():
    route = AlertRouteConfig(policy="p", severity_map={"P1": "sev1"})
    assert severity_for({"severity": "p1"}, route) == "sev1"


def test_highest_severity():
    assert highest_severity(["sev3", None, "sev1", "sev2"]) == "sev1"
    assert highest_severity(["sev4"]) == "sev4"
    assert highest_severity([None, "bogus"]) is None
    assert highest_severity([]) is None
