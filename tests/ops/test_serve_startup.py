"""`firewatch serve` fails fast with one line on a bad Slack token or URL, and runs its stop hooks on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.conftest import SIGNING_SECRET
from tests.processes import free_port, start_server


def run_serve(tmp_path, database_url: str, *, token: str, api_url: str) -> subprocess.CompletedProcess:
    """`firewatch serve` as a real process (its own logging set-up, as in production)."""
    config = tmp_path / "firewatch.yaml"
    config.write_text("{}\n")
    env = {**os.environ, "SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "FIREWATCH_SLACK_API_URL": api_url, "FIREWATCH_DATABASE_URL": database_url,
           "FIREWATCH_CONFIG": str(config)}
    return subprocess.run([sys.executable, "-m", "bot", "serve", "--port", str(free_port())], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


def test_bad_token_is_one_line_naming_the_variable(tmp_path, database_url, fake_slack):
    fake_slack.fake.fail("auth.test", error="invalid_auth")
    result = run_serve(tmp_path, database_url, token="xoxb-revoked-token", api_url=fake_slack.api_url)
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SLACK_BOT_TOKEN" in lines[0] and "invalid_auth" in lines[0]
    assert "xoxb-revoked-token" not in result.stderr


def test_unreachable_slack_api_is_one_line_naming_the_url(tmp_path, database_url):
    url = f"http://127.0.0.1:{free_port()}/api/"
    result = run_serve(tmp_path, database_url, token="xoxb-test-token", api_url=url)
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert url in lines[0] and "FIREWATCH_SLACK_API_URL" in lines[0]


def test_sigterm_runs_the_stop_hooks_and_exits_cleanly(tmp_path, database_url, fake_slack):
    from tests.conftest import BOT_TOKEN

    config = tmp_path / "firewatch.yaml"
    config.write_text("{}\n")
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "FIREWATCH_SLACK_API_URL": fake_slack.api_url, "FIREWATCH_DATABASE_URL": database_url,
           "FIREWATCH_CONFIG": str(config), "FIREWATCH_LOG_FORMAT": "json"}
    proc = start_server(env, free_port(), tmp_path)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=20)
    text = output.decode()
    assert proc.returncode == 0, text
    assert '"message": "stopped"' in text  # logged by serve after the stop hooks ran
    assert BOT_TOKEN not in text
