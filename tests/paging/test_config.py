"""Validation of the paging sections of firewatch.yaml, through the lead's `parse_config`."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from bot.config import ConfigError, parse_config
from bot.core.durations import format_duration, parse_duration
from bot.paging.domain.config import DEFAULT_SEVERITY_MAP, NotifyTarget

GOOD = """
rotations:
  - name: payments
    secondary: true
    members: [{user: U0AAA}, {user: U0BBB}, {user: U0CCC}, {user: U0DDD}]
escalation_policies:
  - name: payments
    steps:
      - {notify: "rotation:payments", timeout: 5m}
      - {notify: "rotation:payments:secondary", timeout: 10m}
      - {notify: "user:U0LEAD", timeout: 15m}
    repeat: 2
    pagerduty: {routing_key_env: PAGERDUTY_ROUTING_KEY}
    channel: C0PAYMENTS
alert_routes:
  - match: {team: payments}
    policy: payments
    open_incident: true
    severity_label: severity
webhooks:
  token_env: FIREWATCH_WEBHOOK_TOKEN
  fallback_channel: C0ALERTS
"""


MY_SECTIONS = ("escalation_policies", "alert_routes", "webhooks")


def _problems(data) -> list[str]:
    """The problems reported for the paging sections (other sections belong to other packages' tests)."""
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    mine = [p for p in info.value.problems if p.startswith(MY_SECTIONS)]
    assert mine, f"expected a paging problem, got {info.value.problems}"
    return mine


def _with(policy_patch=None, route_patch=None, webhooks_patch=None):
    data = yaml.safe_load(GOOD)
    if policy_patch:
        data["escalation_policies"][0].update(policy_patch)
    if route_patch:
        data["alert_routes"][0].update(route_patch)
    if webhooks_patch:
        data["webhooks"].update(webhooks_patch)
    return data


def test_contract_example_parses():
    config = parse_config(yaml.safe_load(GOOD))
    policy = config.policy("payments")
    assert [s.timeout for s in policy.steps] == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=15)]
    assert [s.target() for s in policy.steps] == [
        NotifyTarget("rotation", "payments", "primary"),
        NotifyTarget("rotation", "payments", "secondary"),
        NotifyTarget("user", "U0LEAD", "primary"),
    ]
    assert policy.repeat == 2
    assert policy.pagerduty.routing_key_env == "PAGERDUTY_ROUTING_KEY"
    assert policy.channel == "C0PAYMENTS"
    route = config.alert_routes[0]
    assert route.match == {"team": "payments"} and route.open_incident
    assert route.severity_map == DEFAULT_SEVERITY_MAP
    assert config.webhooks.fallback_channel == "C0ALERTS"
    assert config.webhooks.token_env == "FIREWATCH_WEBHOOK_TOKEN"


def test_defaults():
    config = parse_config({"escalation_policies": [{"name": "p", "steps": [{"notify": "user:U1AB"}]}],
                           "alert_routes": [{"policy": "p"}]})
    step = config.escalation_policies[0].steps[0]
    assert step.timeout == timedelta(minutes=5)
    assert config.escalation_policies[0].repeat == 1
    assert config.escalation_policies[0].pagerduty is None
    assert config.alert_routes[0].match == {}  # catch-all
    assert config.alert_routes[0].severity_label == "severity"
    assert config.webhooks.fallback_channel is None


@pytest.mark.parametrize("notify", ["rotation:", "rotation:payments:tertiary", "user:bob", "team:payments", "payments", "user:U0LEAD:secondary"])
def test_bad_notify(notify):
    problems = _problems(_with({"steps": [{"notify": notify}]}))
    assert problems == [
        f"escalation_policies[0].steps[0].notify: {notify!r} is not a notify target: "
        "use rotation:NAME, rotation:NAME:primary, rotation:NAME:secondary or user:U0123ABCD"
    ]


@pytest.mark.parametrize("timeout", ["5", "5 minutes", "1.5h", "-5m", "m", 300, 1.5])
def test_bad_timeout(timeout):
    problems = _problems(_with({"steps": [{"notify": "rotation:payments", "timeout": timeout}]}))
    assert problems == [
        f"escalation_policies[0].steps[0].timeout: {timeout!r} is not a duration: "
        "use whole numbers with units w, d, h, m or s, largest first, like 30s, 5m, 1h30m, 2d or 1w"
    ]


def test_zero_timeout():
    problems = _problems(_with({"steps": [{"notify": "rotation:payments", "timeout": "0s"}]}))
    assert problems == [
        "escalation_policies[0].steps[0].timeout: '0s' is not a positive duration: "
        "use whole numbers with units w, d, h, m or s, largest first, like 30s, 5m, 1h30m, 2d or 1w"
    ]


@pytest.mark.parametrize("text, expected", [("30s", timedelta(seconds=30)), ("5m", timedelta(minutes=5)), ("1h", timedelta(hours=1)), (" 90s ", timedelta(seconds=90)), ("1h30m", timedelta(minutes=90))])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


def test_format_duration_round_trips():
    assert [format_duration(parse_duration(t)) for t in ("30s", "90s", "300s", "5m", "120m", "1h")] == ["30s", "1m 30s", "5m", "5m", "2h", "1h"]


def test_repeat_and_empty_steps():
    assert _problems(_with({"repeat": 0})) == [
        "escalation_policies[0].repeat: repeat must be at least 1 (the number of passes through the steps), got 0"
    ]
    assert _problems(_with({"steps": []})) == ["escalation_policies[0].steps: an escalation policy needs at least one step"]


def test_policy_channel_and_pagerduty_env():
    assert _problems(_with({"channel": "#payments"})) == [
        "escalation_policies[0].channel: '#payments' is not a Slack channel id (like C0123ABCD); use the id, not the name"
    ]
    assert _problems(_with({"pagerduty": {"routing_key_env": "PD KEY"}})) == [
        "escalation_policies[0].pagerduty.routing_key_env: 'PD KEY' is not an environment variable name (letters, digits and _)"
    ]
    assert _problems(_with({"pagerduty": {"routing_key": "abc"}})) == [
        "escalation_policies[0].pagerduty.routing_key_env: Field required",
        "escalation_policies[0].pagerduty.routing_key: unknown key (check the spelling)",
    ]


def test_severity_map_values():
    problems = _problems(_with(route_patch={"severity_map": {"critical": "sev1", "page": "P1", "minor": "sev10"}}))
    assert problems == [
        "alert_routes[0].severity_map.page: 'P1' is not a severity name: use sev1..sev9",
        "alert_routes[0].severity_map.minor: 'sev10' is not a severity name: use sev1..sev9",
    ]


def test_severity_map_keys_lowercased_and_conflicts():
    config = parse_config(_with(route_patch={"severity_map": {"Critical": "sev1", "WARNING": "sev2"}}))
    assert config.alert_routes[0].severity_map == {"critical": "sev1", "warning": "sev2"}
    assert _problems(_with(route_patch={"severity_map": {"Critical": "sev1", "critical": "sev2"}})) == [
        "alert_routes[0].severity_map: severity_map maps 'critical' twice with different severities (keys ignore case)"
    ]


def test_unknown_keys_forbidden():
    assert _problems(_with({"repat": 2})) == ["escalation_policies[0].repat: unknown key (check the spelling)"]
    assert _problems(_with(route_patch={"matches": {}})) == ["alert_routes[0].matches: unknown key (check the spelling)"]


def test_webhooks_section():
    assert _problems(_with(webhooks_patch={"fallback_channel": "alerts"})) == [
        "webhooks.fallback_channel: 'alerts' is not a Slack channel id (like C0123ABCD); use the id, not the name"
    ]
    assert _problems(_with(webhooks_patch={"max_alerts": 0})) == ["webhooks.max_alerts: max_alerts must be at least 1, got 0"]


def test_cross_references_still_work_with_parsed_steps():
    # bot.config checks rotations and policies exist using step.target() / route.policy.
    data = _with({"steps": [{"notify": "rotation:billing"}]}, {"policy": "nope"})
    assert _problems(data) == [
        "escalation_policies[0].steps[0].notify: unknown rotation 'billing'",
        "alert_routes[0].policy: unknown escalation policy 'nope'",
    ]
