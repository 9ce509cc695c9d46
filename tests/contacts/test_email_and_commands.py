"""Email through a real SMTP server (aiosmtpd on loopback), and `/oncall contact add|list|remove|test`."""

from __future__ import annotations

from email import message_from_bytes

from slack_sdk.models.blocks import Block

from bot.contacts import commands, service
from bot.contacts.domain.rules import Method
from bot.contacts.senders import Notice, SenderSettings, send
from tests.conftest import BOB
from tests.contacts.conftest import ANA, contacts_config


class Responses:
    def __init__(self):
        self.sent: list[dict] = []

    def __call__(self, **kwargs):
        for block in kwargs.get("blocks") or []:
            Block.parse(block).validate_json()  # what Slack would refuse fails here
        self.sent.append(kwargs)

    @property
    def last(self) -> str:
        return self.sent[-1]["text"]


def test_email_is_received_by_a_real_smtp_server(smtp_server):
    controller, handler = smtp_server
    settings = SenderSettings(FIREWATCH_SMTP_URL=f"smtp://{controller.hostname}:{controller.port}",
                              FIREWATCH_SMTP_FROM="pager@firewatch.example.com")
    delivery = send(settings, Method("email", "ana@example.com"), Notice("Firewatch page: Checkout 500s", "details"))
    assert delivery.ok, delivery.detail
    (envelope,) = handler.envelopes
    assert envelope.rcpt_tos == ["ana@example.com"] and envelope.mail_from == "pager@firewatch.example.com"
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"] == "Firewatch page: Checkout 500s" and "details" in mail.get_payload()


def test_unreachable_smtp_server_is_a_failed_delivery_with_the_reason():
    settings = SenderSettings(FIREWATCH_SMTP_URL="smtp://127.0.0.1:9")
    delivery = send(settings, Method("email", "ana@example.com"), Notice("t", "x"))
    assert not delivery.ok and "ConnectionRefused" in delivery.detail


def test_add_list_remove_own_methods_from_slack(contacts_ctx):
    ctx = contacts_ctx(contacts=[])
    respond = Responses()
    commands.handle(ctx, BOB, "add sms +447700900999", respond)
    assert "Added sms …0999" in respond.last and respond.sent[-1]["response_type"] == "ephemeral"
    commands.handle(ctx, BOB, "add sms <tel:+447700900999|+447700900999>", respond)
    assert "already have" in respond.last
    commands.handle(ctx, BOB, "add sms 07700900999", respond)
    assert "international form" in respond.last
    commands.handle(ctx, BOB, "add email <mailto:bob@example.com|bob@example.com>", respond)
    assert "Added email …@example.com" in respond.last
    commands.handle(ctx, BOB, "list", respond)
    assert "1.* sms" in respond.last and "2.* email" in respond.last
    assert "after 0s: email; after 1m: sms" in str(respond.sent[-1]["blocks"])
    commands.handle(ctx, BOB, "remove 1", respond)
    assert "Removed sms" in respond.last
    assert [v.kind for v in service.list_methods(ctx, BOB)] == ["email"]
    commands.handle(ctx, BOB, "remove 7", respond)
    assert "no contact method 7" in respond.last
    commands.handle(ctx, BOB, "frobnicate", respond)
    assert "I don't know `contact frobnicate`" in respond.last


def test_yaml_methods_are_listed_but_cannot_be_removed_from_slack(contacts_ctx):
    ctx = contacts_ctx()
    respond = Responses()
    commands.handle(ctx, ANA, "remove 1", respond)
    assert "set in firewatch.yaml" in respond.last
    assert len(service.list_methods(ctx, ANA)) == 4
    assert service.list_methods(ctx, BOB) == []  # one person's methods are not another's


def test_contact_test_reports_each_method(contacts_ctx, twilio, smtp_server, monkeypatch):
    controller, handler = smtp_server
    monkeypatch.setenv("FIREWATCH_SMTP_URL", f"smtp://{controller.hostname}:{controller.port}")
    person = contacts_config()["contacts"][0]
    person["methods"] = [m for m in person["methods"] if m["type"] != "push"]
    person["rules"] = [{"after": "0s", "via": ["sms", "voice", "email"]}]
    ctx = contacts_ctx(contacts=[person])
    respond = Responses()
    commands.handle(ctx, ANA, "test", respond)
    assert respond.last.startswith("Test sent through every method.")
    assert [r["kind"] for r in twilio.requests] == ["Messages", "Calls"]
    assert "<Gather" not in twilio.of("Calls")[0]["form"]["Twiml"]  # a test call takes no key presses
    assert len(handler.envelopes) == 1
