"""Hostile-input tests against the real HTTP endpoints of a running Firewatch (issue 10, and the edge behaviour
during a database outage from issue 17). Shared helpers live here; fixtures come from tests/conftest.py."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from bot.devtools.fake_slack import FakeSlack

WEBHOOK_TOKEN = "security-webhook-token-3c9a"
FIXTURES = Path(__file__).resolve().parents[1] / "paging" / "fixtures"


def alertmanager_payload() -> bytes:
    return (FIXTURES / "alertmanager_firing.json").read_bytes()


def post_webhook(url: str, path: str, body: bytes, *, token: str = WEBHOOK_TOKEN, **headers) -> httpx.Response:
    return httpx.post(url + path, content=body, timeout=10,
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers})


def slack_activity(fake: FakeSlack) -> tuple[int, int]:
    """Every Web API call and every response_url post the fake Slack has seen so far."""
    with fake.lock:
        return len(fake.calls), len(fake.responses)


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
