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


def test_sigterm_answers_the_request_in_flight_then_stops(tmp_path, database_url, fake_slack):
    """A slash command whose body is still arriving when SIGTERM comes is answered in full; then the process stops
    serving, runs its stop hooks (scheduler shut down) and exits 0."""
    import socket
    import time
    from urllib.parse import urlencode

    from bot.devtools.signed_requests import sign
    from tests.conftest import BOT_TOKEN

    config = tmp_path / "firewatch.yaml"
    config.write_text("{}\n")
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "FIREWATCH_SLACK_API_URL": fake_slack.api_url, "FIREWATCH_DATABASE_URL": database_url,
           "FIREWATCH_CONFIG": str(config)}
    port, log_path = free_port(), tmp_path / "serve.log"
    proc = start_server(env, port, tmp_path, log_path=log_path)
    body = urlencode({"team_id": "T0FIREWATCH", "channel_id": "C0GENERAL", "user_id": "U0ALICE",
                      "command": "/incident", "text": "help", "trigger_id": "1.2.3",
                      "response_url": fake_slack.response_url("inflight")}).encode()
    ts = str(int(time.time()))
    head = (f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {ts}\r\n"
            f"X-Slack-Signature: {sign(SIGNING_SECRET, ts, body.decode())}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as conn:
        conn.sendall(head + body[:10])  # the request has begun; its body is still on its way
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        while "Shutting down" not in log_path.read_text(errors="replace"):  # uvicorn saw the signal
            assert time.monotonic() < deadline and proc.poll() is None, log_path.read_text()
            time.sleep(0.05)
        conn.sendall(body[10:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status_line, _, rest = answer.decode().partition("\r\n")
    assert status_line == "HTTP/1.1 200 OK", answer
    assert "/incident declare" in rest  # the help text: the command really ran
    assert proc.wait(20) == 0, log_path.read_text()
    log_text = log_path.read_text()
    assert log_text.rindex("stopped") > log_text.index("Shutting down")  # stop hooks ran after serving ended
