"""`contacts:` and `heartbeats:` in firewatch.yaml: the issue's example loads; mistakes get one clear line each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.config import ConfigError, parse_config
from bot.contacts.domain.rules import Method, plan
from tests.contacts.conftest import ANA, contacts_config


def problems(**extra) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse_config(contacts_config(**extra))
    return err.value.problems


def test_the_issue_example_loads_and_plans_push_then_sms_at_1m_then_voice_at_3m():
    cfg = parse_config(contacts_config(heartbeats=[{"name": "alertmanager-watchdog", "interval": "5m",
                                                    "grace": "1m", "policy": "payments"}]))
    steps = plan(cfg.contacts[0], [])
    assert [(s.after, [m.kind for m in s.methods]) for s in steps] == [
        (timedelta(0), ["push"]), (timedelta(minutes=1), ["sms"]), (timedelta(minutes=3), ["voice"])]
    assert cfg.heartbeats[0].deadline == timedelta(minutes=6)
    assert "TWILIO_AUTH_TOKEN" in cfg.secret_env_names()


def test_bad_methods_and_rules_are_named_with_their_path():
    base = contacts_config()["contacts"][0]
    bad = [{**base, "methods": [{"type": "sms", "to": "07700 900123"}, {"type": "push", "to": "x@y.z"},
                                {"type": "fax", "to": "+441"}],
            "rules": [{"after": "90", "via": ["sms"]}]}]
    lines = problems(contacts=bad)
    assert any(l.startswith("contacts[0].methods[0]") and "international form" in l for l in lines)
    assert any(l.startswith("contacts[0].methods[1]") and "takes `url`, not `to`" in l for l in lines)
    assert any(l.startswith("contacts[0].methods[2].type") for l in lines)
    assert any(l.startswith("contacts[0].rules[0].after") and "not a duration" in l for l in lines)


def test_a_rule_naming_a_method_the_person_lacks_is_refused():
    person = {"user": ANA, "methods": [{"type": "sms", "to": "+447700900123"}],
              "rules": [{"after": "2m", "via": ["voice"]}]}
    assert any("voice named but U0ANA has no such method" in l for l in problems(contacts=[person]))


def test_heartbeat_with_unknown_policy_duplicate_people_and_bare_numbers_are_refused():
    person = contacts_config()["contacts"][0]
    lines = problems(heartbeats=[{"name": "wd", "interval": "5m", "policy": "nope"},
                                 {"name": "Bad Name", "interval": 300, "policy": "payments"}])
    assert any(l.startswith("heartbeats[1].name") for l in lines)
    assert any(l.startswith("heartbeats[1].interval") and "not a duration" in l for l in lines)
    # Cross-section checks run once the sections themselves are valid.
    lines = problems(contacts=[person, person], heartbeats=[{"name": "wd", "interval": "5m", "policy": "nope"}])
    assert lines == ["contacts: U0ANA is listed twice; give each person one entry",
                     "heartbeats[0].policy: unknown escalation policy 'nope'"]


def test_people_without_rules_get_the_default_order_with_slack_added_methods():
    steps = plan(None, [Method("voice", "+447700900123"), Method("push", "https://ntfy.sh/x")])
    assert [(s.after.total_seconds(), [m.kind for m in s.methods]) for s in steps] == [(0, ["push"]), (180, ["voice"])]
