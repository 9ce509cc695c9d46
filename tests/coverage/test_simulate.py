"""`firewatch simulate alert`: who would be notified, how and when, through every step and repeat; nothing sent."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from bot.cli import main
from tests.conftest import ALICE, ANNOUNCE, BOB

ANA = "U0ANA"
FALLBACK = "C0UNROUTED"


def _config() -> dict:
    return {
        "admins": [ALICE],
        "incidents": {"announcements_channel": ANNOUNCE},
        "rotations": [{"name": "payments", "rules": {"planner": "greedy", "min_rest_shifts": 0},
                       "members": [{"user": ANA}]}],
        "escalation_policies": [{"name": "payments", "repeat": 2, "channel": "C0PAYMENTS", "steps": [
            {"notify": "rotation:payments", "timeout": "5m"}, {"notify": f"user:{BOB}", "timeout": "10m"}]}],
        "alert_routes": [{"match": {"team": "payments"}, "policy": "payments"}],
        "webhooks": {"fallback_channel": FALLBACK},
        "contacts": [{"user": ANA, "methods": [{"type": "sms", "to": "+447700900123"}],
                      "rules": [{"after": "0s", "via": ["slack"]}, {"after": "1m", "via": ["sms"]}]}],
    }


def _run(tmp_path, database_url, monkeypatch, *args):
    path = tmp_path / "firewatch.yaml"
    path.write_text(yaml.safe_dump(_config()))
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", database_url)
    return CliRunner().invoke(main, ["simulate", "alert", *args, "--config", str(path)])


def test_two_step_policy_with_sms_at_one_minute_through_both_passes(tmp_path, database_url, monkeypatch):
    result = _run(tmp_path, database_url, monkeypatch, "--labels", "team=payments,severity=critical",
                  "--at", "2027-03-06T03:00")
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert lines[0] == "alert team=payments, severity=critical at 2027-03-06 03:00 UTC"
    assert "escalation policy 'payments': 2 step(s), 2 pass(es)" in lines[1]
    assert lines[2:-1] == [
        f"2027-03-06 03:00 UTC +0s step 1 of 2, pass 1 of 2 payments: {ANA} by slack DM",
        f"2027-03-06 03:01 UTC +1m step 1 of 2, pass 1 of 2 payments: {ANA} by sms …0123",
        f"2027-03-06 03:05 UTC +5m step 2 of 2, pass 1 of 2 {BOB}: {BOB} by slack DM",
        f"2027-03-06 03:15 UTC +15m step 1 of 2, pass 2 of 2 payments: {ANA} by slack DM",
        f"2027-03-06 03:16 UTC +16m step 1 of 2, pass 2 of 2 payments: {ANA} by sms …0123",
        f"2027-03-06 03:20 UTC +20m step 2 of 2, pass 2 of 2 {BOB}: {BOB} by slack DM",
        "2027-03-06 03:30 UTC +30m nobody acknowledged after 2 pass(es): paging stops; C0PAYMENTS is told",
    ]
    assert lines[-1].startswith("nothing was sent")


def test_bad_labels_and_no_route(tmp_path, database_url, monkeypatch):
    bad = _run(tmp_path, database_url, monkeypatch, "--labels", "team:payments")
    assert bad.exit_code == 2
    assert "'team:payments' is not a label" in bad.output and "--labels team=payments,severity=critical" in bad.output
    assert "Traceback" not in bad.output

    unrouted = _run(tmp_path, database_url, monkeypatch, "--labels", "team=search")
    assert unrouted.exit_code == 0, unrouted.output
    assert "no alert route matches team=search" in unrouted.output and FALLBACK in unrouted.output


def test_an_alert_routed_by_its_service_label_simulates_the_services_policy(tmp_path, database_url, monkeypatch):
    cfg = _config()
    cfg["services"] = [{"name": "checkout", "owner": "payments"}]
    path = tmp_path / "firewatch.yaml"
    path.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["simulate", "alert", "--labels", "service=checkout", "--at",
                                       "2027-03-06T03:00", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "service 'checkout' (the alert's service label) -> escalation policy 'payments'" in result.output
    assert ANA in result.output  # the rotation's on-call is who would be paged
