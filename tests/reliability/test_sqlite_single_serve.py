"""On SQLite a second `firewatch serve` on the same database file refuses to start, with a clear message and no
traceback, while the first keeps serving."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import yaml

from storage.db import upgrade
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.processes import free_port, start_server, stop_server
from tests.reliability.scenarios import drill_config


def test_second_serve_on_one_sqlite_file_refuses_clearly(tmp_path, fake_slack):
    url = f"sqlite:///{tmp_path / 'firewatch.db'}"
    upgrade(url)
    config = tmp_path / "firewatch.yaml"
    config.write_text(yaml.safe_dump(drill_config()))
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "FIREWATCH_SLACK_API_URL": fake_slack.api_url, "FIREWATCH_DATABASE_URL": url,
           "FIREWATCH_CONFIG": str(config)}
    port = free_port()
    first = start_server(env, port, tmp_path, log_path=tmp_path / "first.log")
    try:
        second = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", str(free_port())], env=env,
                                cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "refusing to start: another `firewatch serve` already runs on" in second.stderr
        assert "use PostgreSQL for several replicas" in second.stderr
        assert "Traceback" not in second.stderr
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        stop_server(first)
