"""Contacts fixtures: an unstarted app context on the fake Slack with a recording scheduler, the Twilio stand-in,
and a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.config import parse_config
from bot.server import build_context
from tests.conftest import ALICE, ANNOUNCE, make_settings
from tests.contacts.twilio_standin import TwilioStandIn

ANA = "U0ANA"
PAYMENTS_CHANNEL = "C0PAYMENTS"
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "twilio-test-token-0a9b"
FROM_NUMBER = "+15005550006"
PUBLIC_URL = "https://firewatch.example.com"
WEBHOOK_TOKEN = "test-webhook-token-77ab"
T0 = datetime(2027, 3, 6, 3, 0, tzinfo=timezone.utc)


def contacts_config(**extra) -> dict:
    cfg = {
        "admins": [ALICE],
        "incidents": {"announcements_channel": ANNOUNCE},
        "escalation_policies": [{"name": "payments", "channel": PAYMENTS_CHANNEL,
                                 "steps": [{"notify": f"user:{ANA}", "timeout": "30m"}]}],
        "contacts": [{
            "user": ANA,
            "methods": [{"type": "sms", "to": "+447700900123"}, {"type": "voice", "to": "+447700900123"},
                        {"type": "push", "url": "https://ntfy.example.com/ana-7f3a"},
                        {"type": "email", "to": "ana@example.com"}],
            "rules": [{"after": "0s", "via": ["slack", "push"]}, {"after": "1m", "via": ["sms"]},
                      {"after": "3m", "via": ["voice"]}],
        }],
    }
    cfg.update(extra)
    return cfg


class RecordingScheduler:
    """Stands in for bot.scheduler.Scheduler: records `at` jobs so tests run them at a chosen time."""

    started = True

    def __init__(self):
        self.jobs: dict[str, tuple] = {}
        self.cancelled: list[str] = []

    def at(self, job_id, when, func, args=(), *, grace=None):
        self.jobs[job_id] = (when, func, args)

    def cancel(self, job_id):
        self.cancelled.append(job_id)
        return self.jobs.pop(job_id, None) is not None

    def job_ids(self):
        return list(self.jobs)

    def confirm_leadership(self):
        return True

    def add_leader_task(self, *args, **kwargs):
        pass


@pytest.fixture
def twilio(monkeypatch):
    standin = TwilioStandIn(ACCOUNT_SID, AUTH_TOKEN).start()
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", FROM_NUMBER)
    monkeypatch.setenv("FIREWATCH_TWILIO_API_URL", standin.url)
    yield standin
    standin.stop()


@pytest.fixture
def contacts_ctx(database_url, fake_slack, monkeypatch):
    """Build (not start) Firewatch with the contacts config; returns a function taking config overrides."""
    monkeypatch.setenv("FIREWATCH_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    built = []

    def build(**extra):
        fake_slack.fake.add_user(ANA, "Ana")
        fake_slack.fake.add_channel(PAYMENTS_CHANNEL, "payments")
        settings = make_settings(database_url, fake_slack.api_url, FIREWATCH_PUBLIC_URL=PUBLIC_URL)
        ctx = build_context(settings, parse_config(contacts_config(**extra)))
        ctx.services.scheduler = RecordingScheduler()
        built.append(ctx)
        return ctx

    yield build
    for ctx in built:
        ctx.engine.dispose()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback, collecting envelopes."""
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:  # a free loopback port (the controller's readiness check needs a real one)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, handler
    controller.stop()
