"""`firewatch config check` warns about the environment the file relies on and about YAML traps."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli import main

ROUTED = """
rotations:
  - name: payments
    members: [{user: U0AAA}, {user: U0BBB}]
escalation_policies:
  - name: payments
    steps:
      - {notify: "rotation:payments", timeout: 5m}
alert_routes:
  - match: {team: payments}
    policy: payments
"""


def check(tmp_path, monkeypatch, text: str, **env):
    for name in ("OPENAI_API_KEY", "FIREWATCH_WEBHOOK_TOKEN", "FIREWATCH_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "firewatch.yaml"
    path.write_text(text)
    return CliRunner().invoke(main, ["config", "check", "--config", str(path)])


def warnings(result) -> list[str]:
    return [l.strip().removeprefix("warning: ") for l in result.output.splitlines() if "warning:" in l]


def test_alert_routes_without_webhook_token(tmp_path, monkeypatch):
    result = check(tmp_path, monkeypatch, ROUTED)
    assert result.exit_code == 0, result.output
    assert warnings(result) == ["alert_routes: 1 route(s) but FIREWATCH_WEBHOOK_TOKEN is not set; every alert "
                                "webhook is refused until it is"]
    assert warnings(check(tmp_path, monkeypatch, ROUTED, FIREWATCH_WEBHOOK_TOKEN="t0ken-value")) == []


def test_llm_model_without_key(tmp_path, monkeypatch):
    text = "llm:\n  model: gpt-4o-mini\n"
    [warning] = warnings(check(tmp_path, monkeypatch, text))
    assert warning.startswith("llm: model gpt-4o-mini is configured but OPENAI_API_KEY is not set")
    assert warnings(check(tmp_path, monkeypatch, text, OPENAI_API_KEY="sk-test")) == []
    assert warnings(check(tmp_path, monkeypatch, "llm:\n  enabled: false\n  model: gpt-4o-mini\n")) == []


def test_llm_model_from_environment_without_key(tmp_path, monkeypatch):
    [warning] = warnings(check(tmp_path, monkeypatch, "admins: [U0ADMIN]\n", FIREWATCH_LLM_MODEL="local-model"))
    assert "model local-model" in warning and "OPENAI_API_KEY" in warning


def test_unquoted_hash_channel_is_flagged_with_its_line(tmp_path, monkeypatch):
    text = "incidents:\n  announcements_channel: #incidents\n  channel_prefix: inc\n"
    result = check(tmp_path, monkeypatch, text)
    assert result.exit_code == 0, result.output
    assert warnings(result) == ['line 2: announcements_channel is empty because YAML reads `#incidents` as a '
                                'comment; quote it: announcements_channel: "#incidents"']
    quoted = 'incidents:\n  announcements_channel: "#incidents"  # the public channel\n'
    assert warnings(check(tmp_path, monkeypatch, quoted)) == []


def test_empty_config_is_flagged(tmp_path, monkeypatch):
    for text in ("", "# nothing yet\n", "{}\n"):
        [warning] = warnings(check(tmp_path, monkeypatch, text))
        assert warning.startswith("the file is empty")
