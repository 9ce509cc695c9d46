"""`firewatch serve --mode socket`: Slack traffic over a WebSocket (a local Socket Mode stand-in), and the HTTP
port still answers health checks."""

from __future__ import annotations

import os

import httpx
import yaml

from bot.devtools.fake_socket_mode import FakeSocketMode
from tests.conftest import ANNOUNCE, BOT_TOKEN, REPORTER
from tests.processes import free_port, start_server, stop_server


def test_socket_mode_declares_an_incident_and_acks_the_envelope(tmp_path, database_url, fake_slack):
    socket_mode = FakeSocketMode()
    fake_slack.fake.socket_url = socket_mode.url
    config = tmp_path / "firewatch.yaml"
    config.write_text(yaml.safe_dump({"incidents": {"announcements_channel": ANNOUNCE}}))
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1-A0FIREWATCH-test",
           "FIREWATCH_SLACK_API_URL": fake_slack.api_url, "FIREWATCH_DATABASE_URL": database_url,
           "FIREWATCH_CONFIG": str(config)}
    env.pop("SLACK_SIGNING_SECRET", None)
    port = free_port()
    proc = start_server({**env}, port, tmp_path, mode="socket")
    try:
        socket_mode.wait_connected()
        assert fake_slack.fake.calls_to("apps.connections.open")
        envelope_id = "1d5c3b6a-socket-mode-test"
        socket_mode.send({
            "envelope_id": envelope_id, "type": "slash_commands", "accepts_response_payload": True,
            "payload": {"token": "x", "team_id": "T0FIREWATCH", "channel_id": "C0GENERAL", "channel_name": "general",
                        "user_id": REPORTER, "user_name": "riley", "command": "/incident",
                        "text": "declare sev2 Declared over Socket Mode", "api_app_id": "A0FIREWATCH",
                        "response_url": fake_slack.response_url(), "trigger_id": "1.2.3"},
        })
        ack = socket_mode.wait_ack(envelope_id)
        assert "Declaring" in json_text(ack)
        fake_slack.fake.wait_for(lambda f: f.calls_to("pins.add"), timeout=15)
        assert fake_slack.fake.calls_to("conversations.create")[0].params["name"] == "inc-1-declared-over-socket-mode"
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        # Slack requests do not come over HTTP in Socket Mode.
        assert httpx.post(f"http://127.0.0.1:{port}/slack/events", content=b"{}", timeout=5).status_code == 404
    finally:
        stop_server(proc)
        socket_mode.stop()


def json_text(message: dict) -> str:
    import json

    return json.dumps(message)
