"""Each vendor's fixtures import into a configuration that `firewatch config check` accepts, with the expected
mapping and a note for everything that has no Firewatch equivalent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.importers import service

FIXTURES = Path(__file__).parent / "fixtures"
USERS = FIXTURES / "users.csv"
TODAY = date(2027, 3, 1)

CASES = [
    ("pagerduty", "pagerduty_layers"),
    ("pagerduty", "pagerduty_escalation"),
    ("opsgenie", "opsgenie_rotations"),
    ("opsgenie", "opsgenie_escalations"),
    ("grafana-oncall", "grafana_layers"),
    ("grafana-oncall", "grafana_escalation"),
]


def _import(vendor: str, case: str, users: Path | None = USERS):
    export = service.read_export(vendor, FIXTURES / case)
    directory = service.read_users_csv(users) if users else service.Directory({})
    return service.import_export(export, directory, today=TODAY, source=case)


@pytest.mark.parametrize(("vendor", "case"), CASES)
def test_cli_import_writes_a_config_that_passes_config_check(tmp_path, vendor, case):
    out = tmp_path / "firewatch.yaml"
    runner = CliRunner()
    result = runner.invoke(main, ["import", vendor, "--from", str(FIXTURES / case), "--users", str(USERS),
                                  "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    check = runner.invoke(main, ["config", "check", "--config", str(out)])
    assert check.exit_code == 0, check.output
    assert f"{out}: OK" in check.output
    data = yaml.safe_load(out.read_text())
    assert data["rotations"], "at least one rotation imported"


def _rotation(data: dict, name: str) -> dict:
    return next(r for r in data["rotations"] if r["name"] == name)


def test_pagerduty_layers_restrictions_and_overrides():
    outcome = _import("pagerduty", "pagerduty_layers")
    data = yaml.safe_load(outcome.text)
    names = [r["name"] for r in data["rotations"]]
    # The unrestricted base layer comes first: that is the rotation escalation policies page.
    assert names == ["daily-engineering-rotation-layer-1", "daily-engineering-rotation-night-shift",
                     "daily-engineering-rotation-weekend-cover"]
    base = _rotation(data, names[0])
    assert base["timezone"] == "America/New_York"
    assert base["shift"] == {"length": "1d", "handoff_time": "09:00"}
    assert [m["user"] for m in base["members"]] == ["U0EARLINE", "U0KYLER", "U0TIM"]
    assert base["members"][2]["timezone"] == "America/Chicago" and base["members"][0]["country"] == "US"
    weekend = _rotation(data, names[2])
    assert weekend["shift"] == {"length": "1w", "handoff_time": "08:00", "handoff_day": "sat"}
    assert data["escalation_policies"] == [{"name": "engineering-escalation-policy", "steps": [
        {"notify": "rotation:daily-engineering-rotation-layer-1", "timeout": "30m"}]}]
    reasons = [n.render() for n in outcome.notes]
    assert any("Night Shift" in r and "daily from 20:00 for 9h" in r for r in reasons)
    assert any("Weekend cover" in r and "sat from 08:00 for 2d" in r for r in reasons)
    # Both overrides are carried: listed in the header for /oncall override, and kept for the audit.
    assert [(rot, user) for rot, user, _, _ in outcome.result.overrides] == [
        ("daily-engineering-rotation-layer-1", "U0ANA"), ("daily-engineering-rotation-layer-1", "U0KYLER")]
    assert "#   daily-engineering-rotation-layer-1: U0ANA from 2027-03-15T09:00:00-04:00" in outcome.text


def test_pagerduty_several_escalation_levels():
    outcome = _import("pagerduty", "pagerduty_escalation")
    data = yaml.safe_load(outcome.text)
    assert data["escalation_policies"] == [{"name": "payments", "repeat": 3, "steps": [
        {"notify": "rotation:payments-primary", "timeout": "5m"},
        {"notify": "rotation:payments-secondary", "timeout": "10m"},
        # The manager has no Slack id, so their rule is dropped and its 30 minutes go to the step before.
        {"notify": "user:U0EARLINE", "timeout": "45m"},
    ]}]
    secondary = _rotation(data, "payments-secondary")
    assert secondary["shift"] == {"length": "1w", "handoff_time": "10:00", "handoff_day": "thu"}
    reasons = [n.render() for n in outcome.notes]
    assert any("several targets at once" in r and "Kyler Kuhn" in r for r in reasons)
    assert any("no Slack user for manager@example.com" in r for r in reasons)


def test_opsgenie_rotations_with_time_restrictions_and_override():
    outcome = _import("opsgenie", "opsgenie_rotations")
    data = yaml.safe_load(outcome.text)
    first = _rotation(data, "schedulename-first-rotation")
    assert first["timezone"] == "Europe/Berlin"
    assert first["shift"] == {"length": "1d", "handoff_time": "09:00"}  # 08:00Z in winter is 09:00 in Berlin
    assert [m["user"] for m in first["members"]] == ["U0OGONE", "U0OGTWO", "U0OGTHREE"]
    second = _rotation(data, "schedulename-second-rotation")
    assert second["shift"] == {"length": "1w", "handoff_time": "18:00", "handoff_day": "mon"}
    reasons = [n.render() for n in outcome.notes]
    assert any("First Rotation" in r and "mon from 09:00 for 4d 9h" in r for r in reasons)
    assert any("participant of type 'team'" in r for r in reasons)
    assert [user for _, user, _, _ in outcome.result.overrides] == ["U0OGTWO"]


def test_opsgenie_several_escalation_levels():
    outcome = _import("opsgenie", "opsgenie_escalations")
    data = yaml.safe_load(outcome.text)
    # Opsgenie delays count from the alert (0, 5, 20, 60 min); the team rule is dropped, so the user paged at
    # 5 minutes waits until the next mapped rule at 60; the last waits repeat.waitInterval.
    assert data["escalation_policies"] == [{"name": "teamname-escalation", "repeat": 2, "steps": [
        {"notify": "rotation:platform-on-call", "timeout": "5m"},
        {"notify": "user:U0OGFOUR", "timeout": "55m"},
        {"notify": "user:U0OGONE", "timeout": "10m"},
    ]}]
    reasons = [n.render() for n in outcome.notes]
    assert any("if-not-closed" in r for r in reasons)
    assert any("recipient type 'team'" in r for r in reasons)


def test_grafana_layers_levels_and_override():
    outcome = _import("grafana-oncall", "grafana_layers")
    data = yaml.safe_load(outcome.text)
    names = [r["name"] for r in data["rotations"]]
    assert names[0] == "demo-schedule-web-demo-rolling-users-24"  # slugs stop at 40 characters
    daily = _rotation(data, names[0])
    assert daily["shift"] == {"length": "1d", "handoff_time": "09:00"}
    assert [m["user"] for m in daily["members"]] == ["U0ALEX", "U0BEA", "U0CHRIS", "U0DANA"]
    days = _rotation(data, names[1])
    # start_rotation_from_user_index 1 puts the second group first; groups of two keep their first person.
    assert [m["user"] for m in days["members"]] == ["U0ALEX", "U0CHRIS"]
    reasons = [n.render() for n in outcome.notes]
    assert any("groups of several people" in r for r in reasons)
    assert any("mon from 09:00 for 9h" in r for r in reasons)
    assert [user for _, user, _, _ in outcome.result.overrides] == ["U0BEA"]


def test_grafana_escalation_chain_and_slack_ids_from_grafana_itself():
    # No users.csv: Grafana OnCall's users export links each person's Slack account.
    outcome = _import("grafana-oncall", "grafana_escalation", users=None)
    data = yaml.safe_load(outcome.text)
    assert [m["user"] for m in data["rotations"][0]["members"]] == ["UALEXSLACKDJPK", "UBEASLACK0001", "UCHRISLACK001"]
    assert data["escalation_policies"] == [{"name": "example-chain", "repeat": 6, "steps": [
        {"notify": "rotation:backend", "timeout": "5m"},
        {"notify": "user:UDANASLACK001", "timeout": "15m"},
        {"notify": "user:UBEASLACK0001", "timeout": "10m"},
    ]}]
    reasons = [n.render() for n in outcome.notes]
    assert any("notify_user_group" in r for r in reasons)
    assert any("integration 'Grafana :blush:'" in r and "example-chain" in r for r in reasons)


def test_dry_run_prints_config_and_every_unmapped_item_and_writes_nothing(tmp_path):
    out = tmp_path / "firewatch.yaml"
    result = CliRunner().invoke(main, ["import", "pagerduty", "--from", str(FIXTURES / "pagerduty_escalation"),
                                       "--users", str(USERS), "--out", str(out), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert not out.exists()
    assert "rotations:" in result.output and "name: payments-primary" in result.output
    assert "item(s) not mapped exactly:" in result.output
    assert "no Slack user for manager@example.com" in result.output
    assert "several targets at once" in result.output


def test_merges_into_an_existing_config_and_refuses_name_clashes(tmp_path):
    out = tmp_path / "firewatch.yaml"
    out.write_text("admins: [U0ROOT]\n")
    runner = CliRunner()
    args = ["import", "opsgenie", "--from", str(FIXTURES / "opsgenie_escalations"), "--users", str(USERS),
            "--out", str(out)]
    assert runner.invoke(main, args).exit_code == 0
    merged = yaml.safe_load(out.read_text())
    assert merged["admins"] == ["U0ROOT"] and merged["rotations"][0]["name"] == "platform-on-call"
    before = out.read_text()
    again = runner.invoke(main, args)
    assert again.exit_code == 1
    assert "'platform-on-call' already exists" in again.output
    assert out.read_text() == before


def test_bad_inputs_get_a_clear_error_and_write_nothing(tmp_path):
    runner = CliRunner()
    out = tmp_path / "firewatch.yaml"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = runner.invoke(main, ["import", "pagerduty", "--from", str(broken), "--out", str(out)])
    assert result.exit_code == 1 and "not valid JSON" in result.output and "Traceback" not in result.output
    wrong = runner.invoke(main, ["import", "pagerduty", "--from", str(FIXTURES / "opsgenie_escalations"),
                                 "--out", str(out)])
    assert wrong.exit_code == 1 and "no PagerDuty schedules" in wrong.output
    nobody = runner.invoke(main, ["import", "opsgenie", "--from", str(FIXTURES / "opsgenie_escalations"),
                                  "--out", str(out)])
    assert nobody.exit_code == 1 and "pass --users users.csv or set SLACK_BOT_TOKEN" in nobody.output
    bad_csv = tmp_path / "users.csv"
    bad_csv.write_text("email,slack_id\nuser@opsgenie.com,@uma\n")
    csv_result = runner.invoke(main, ["import", "opsgenie", "--from", str(FIXTURES / "opsgenie_escalations"),
                                      "--users", str(bad_csv), "--out", str(out)])
    assert csv_result.exit_code == 1 and "line 2: '@uma' is not a Slack user id" in csv_result.output
    assert not out.exists()


def test_an_unwritable_out_is_an_error_not_a_traceback(tmp_path):
    out = tmp_path / "missing-dir" / "firewatch.yaml"
    result = CliRunner().invoke(main, ["import", "opsgenie", "--from", str(FIXTURES / "opsgenie_escalations"),
                                       "--users", str(USERS), "--out", str(out)])
    assert result.exit_code == 1
    assert "cannot write" in result.output and "nothing was written" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_apply_overrides_stores_the_vendors_future_overrides_once(tmp_path, database_url, monkeypatch):
    from sqlmodel import select

    from storage.db import make_engine, session_scope
    from storage.models import RotationOverride

    monkeypatch.setenv("FIREWATCH_DATABASE_URL", database_url)
    args = ["import", "pagerduty", "--from", str(FIXTURES / "pagerduty_layers"), "--users", str(USERS),
            "--out", str(tmp_path / "firewatch.yaml"), "--apply-overrides"]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "overrides: 2 stored, 0 already there" in first.output
    (tmp_path / "firewatch.yaml").unlink()  # a second import of the same export (the config is rewritten)
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0, second.output
    assert "overrides: 0 stored, 2 already there" in second.output
    with session_scope(make_engine(database_url)) as s:
        rows = s.exec(select(RotationOverride).order_by(RotationOverride.start)).all()
        stored = [(r.rotation, r.user_id, r.created_by) for r in rows]
    assert stored == [("daily-engineering-rotation-layer-1", "U0ANA", "import"),
                      ("daily-engineering-rotation-layer-1", "U0KYLER", "import")]


def test_apply_overrides_without_a_migrated_database_says_so_and_keeps_the_config(tmp_path, monkeypatch):
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    out = tmp_path / "firewatch.yaml"
    result = CliRunner().invoke(main, ["import", "pagerduty", "--from", str(FIXTURES / "pagerduty_layers"),
                                       "--users", str(USERS), "--out", str(out), "--apply-overrides"])
    assert result.exit_code == 1
    assert "overrides not stored:" in result.output and "firewatch db upgrade" in result.output
    assert out.exists(), "the configuration written before the database step is kept"
