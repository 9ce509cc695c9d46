"""The `firewatch` command line, configuration validation and the Slack app manifest."""

from __future__ import annotations

import os
import time
from pathlib import Path

import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.config import ConfigError, load_config, parse_config
from bot.devtools.signed_requests import SlackSender
from storage.db import make_engine, migration_problem
from tests.processes import free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "firewatch.yaml"
    p.write_text(text)
    return p


def test_config_check_reports_every_problem_with_its_path(tmp_path):
    path = _write(tmp_path, """
admins: [alice]
incidents:
  announcements_channel: general
  channel_prefix: "INC!"
  default_severity: sev9
  colour: red
""")
    result = CliRunner().invoke(main, ["config", "check", "--config", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "admins[0]: 'alice' is not a Slack user id (like U0123ABCD); use the id, not the name" in out
    assert "incidents.announcements_channel: 'general' is not a Slack channel id" in out
    assert "incidents.channel_prefix: 'INC!' is not a valid channel prefix" in out
    assert "incidents.colour: unknown key (check the spelling)" in out


def test_config_check_summary_on_valid_file(tmp_path):
    path = _write(tmp_path, "admins: [U0ALICE]\nincidents: {announcements_channel: C0ANNOUNCE}\n")
    result = CliRunner().invoke(main, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "severities sev1, sev2, sev3, sev4 (default sev3)" in result.output


def test_bad_yaml_and_missing_file_are_clear(tmp_path):
    path = _write(tmp_path, "incidents: [unclosed\n")
    try:
        load_config(path)
        raise AssertionError("expected a ConfigError")
    except ConfigError as exc:
        assert exc.problems[0].startswith("(yaml): ") and "line " in exc.problems[0]
    result = CliRunner().invoke(main, ["config", "check", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1 and "not found" in result.output


def test_default_severity_must_be_a_configured_severity():
    try:
        parse_config({"incidents": {"severities": [{"name": "sev1"}, {"name": "sev2"}]}})
        raise AssertionError("expected a ConfigError")
    except ConfigError as exc:
        assert exc.problems == ["incidents: default_severity 'sev3' is not one of the severities (sev1, sev2)"]


def test_serve_refuses_an_unmigrated_database(tmp_path, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    path = _write(tmp_path, "{}\n")
    result = CliRunner().invoke(main, ["serve", "--mode", "http", "--config", str(path)])
    assert result.exit_code == 1
    assert "run `firewatch db upgrade` first" in result.output


def test_serve_names_missing_environment(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--mode", "socket", "--config", str(_write(tmp_path, "{}\n"))])
    assert result.exit_code == 1
    assert "set SLACK_BOT_TOKEN, SLACK_APP_TOKEN" in result.output


def test_db_upgrade_then_schema_is_current(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fw.db'}"
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", url)
    engine = make_engine(url)
    assert "has not been initialised" in migration_problem(engine)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert migration_problem(engine) is None
    engine.dispose()


def test_black_box_serve_http_declares_through_any_slack_compatible_fake(tmp_path, database_url, fake_slack):
    """`firewatch serve --mode http` as a real process, talking to the fake through FIREWATCH_SLACK_API_URL."""
    from tests.conftest import ANNOUNCE, BOT_TOKEN, REPORTER, SIGNING_SECRET

    config = _write(tmp_path, f"incidents: {{announcements_channel: {ANNOUNCE}}}\n")
    port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "FIREWATCH_SLACK_API_URL": fake_slack.api_url, "FIREWATCH_DATABASE_URL": database_url,
           "FIREWATCH_CONFIG": str(config)}
    proc = start_server(env, port, tmp_path)
    try:
        url = f"http://127.0.0.1:{port}"
        sender = SlackSender(url, SIGNING_SECRET, response_url=fake_slack.response_url())
        started = time.monotonic()
        r = sender.command("/incident", "declare sev2 Checkout API returning 500s", user=REPORTER)
        assert r.status_code == 200 and time.monotonic() - started < 3.0
        fake = fake_slack.fake
        fake.wait_for(lambda f: f.calls_to("pins.add"), timeout=15)
        order = [c.method for c in fake.calls if c.method != "auth.test"]
        assert order[:4] == ["conversations.create", "conversations.invite", "conversations.setTopic",
                             "chat.postMessage"]
        assert fake.calls_to("conversations.create")[0].params["name"].startswith("inc-")
        channel = fake.calls_to("conversations.create")[0].response["channel"]["id"]
        assert fake.calls_to("conversations.invite")[0].params["users"] == REPORTER
        fake.wait_for(lambda f: {c.params["channel"] for c in f.calls_to("chat.postMessage")} >= {channel, ANNOUNCE})
        assert sender.command("/incident", "help", user=REPORTER, secret="wrong").status_code == 401
        sender.close()
    finally:
        stop_server(proc)


def test_manifest_declares_commands_scopes_events_and_socket_mode():
    manifest = yaml.safe_load((ROOT / "manifests" / "slack-app.yaml").read_text())
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/incident", "/oncall", "/page"}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "channels:manage", "groups:write", "pins:write", "reactions:read",
            "channels:history", "im:write", "usergroups:write"} <= scopes
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert "reaction_added" in settings["event_subscriptions"]["bot_events"]


def test_cross_section_problems_are_reported_with_their_paths():
    def rotation(name):
        return {"name": name, "usergroup": "S0ONCALL", "members": [{"user": "U0A"}, {"user": "U0B"}],
                "rules": {"min_rest_shifts": 0}}

    try:
        parse_config({
            "rotations": [rotation("a"), rotation("b")],
            "incidents": {"invite_rotations": ["nope"]},
            "escalation_policies": [{"name": "p", "steps": [{"notify": "rotation:a:secondary"}]},
                                    {"name": "p", "steps": [{"notify": "rotation:ghost"}]}],
            "alert_routes": [{"policy": "missing", "severity_map": {"critical": "sev7"}}],
        })
        raise AssertionError("expected a ConfigError")
    except ConfigError as exc:
        assert exc.problems == [
            "rotations[1].usergroup: S0ONCALL is already kept in sync by rotation 'a'; give each rotation its own user group",
            "incidents.invite_rotations[0]: unknown rotation 'nope'",
            "escalation_policies: duplicate policy name 'p'",
            "escalation_policies[0].steps[0].notify: rotation 'a' has no secondary (set secondary: true on the "
            "rotation, or page its primary)",
            "escalation_policies[1].steps[0].notify: unknown rotation 'ghost'",
            "alert_routes[0].policy: unknown escalation policy 'missing'",
            "alert_routes[0].severity_map: sev7 not among the configured severities (sev1, sev2, sev3, sev4)",
        ]


def test_readme_configuration_reference_is_valid_and_matches_the_example_file():
    """The documented configuration must pass `config check` (docs that do not validate mislead at 3 a.m.)."""
    import re

    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Configuration reference.*?```yaml\n(.*?)```", readme, re.S).group(1)
    documented = parse_config(yaml.safe_load(block))
    assert [r.name for r in documented.rotations] == ["payments"]
    assert documented.incidents.invite_rotations == ["payments"]
    example = load_config(ROOT / "firewatch.example.yaml")
    assert example == documented
