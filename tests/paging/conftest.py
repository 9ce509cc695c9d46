"""Shared configuration for paging tests against the running app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ALICE, ANNOUNCE, BOB

FIXTURES = Path(__file__).resolve().parents[1] / "paging" / "fixtures"
TOKEN = "test-webhook-token-5f1c"
LEAD = "U0LEAD"
PAYMENTS_CHANNEL = "C0PAYMENTS"
FALLBACK = "C0ALERTS"


def paging_config(first_timeout: str = "30m", second_timeout: str = "30m", repeat: int = 1, open_incident=False):
    return {
        "admins": [ALICE],
        "incidents": {"announcements_channel": ANNOUNCE},
        "rotations": [{
            "name": "payments", "timezone": "Europe/London",
            "shift": {"length": "1d", "handoff_time": "10:00"},
            "members": [{"user": ALICE, "timezone": "Europe/London", "country": "GB"},
                        {"user": BOB, "timezone": "America/New_York", "country": "US"}],
            "rules": {"min_rest_shifts": 0},
        }],
        "escalation_policies": [{
            "name": "payments", "channel": PAYMENTS_CHANNEL, "repeat": repeat,
            "steps": [{"notify": "rotation:payments", "timeout": first_timeout},
                      {"notify": f"user:{LEAD}", "timeout": second_timeout}],
        }],
        "alert_routes": [{"match": {"alertname": "Fire"}, "policy": "payments", "open_incident": open_incident}],
        "webhooks": {"fallback_channel": FALLBACK},
    }


def payload(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(name: str) -> dict:
    return json.loads(payload(name))


@pytest.fixture
def paging(harness_factory, monkeypatch):
    """Start Firewatch with the paging config; returns a function taking config overrides."""
    monkeypatch.setenv("FIREWATCH_WEBHOOK_TOKEN", TOKEN)

    def start(**kw):
        h = harness_factory(paging_config(**kw))
        h.fake.add_user(LEAD, "Lee")
        h.fake.add_channel(PAYMENTS_CHANNEL, "payments")
        h.fake.add_channel(FALLBACK, "alerts")
        return h

    return start
