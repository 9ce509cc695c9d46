"""`/oncall contact …` through the real Slack endpoint: a signed slash command reaches the contacts feature and
the person's own methods are stored; the answer is ephemeral and only theirs."""

from __future__ import annotations

from bot.contacts import service
from tests.conftest import BOB
from tests.contacts.conftest import contacts_config


def test_signed_oncall_contact_add_and_list(harness_factory):
    h = harness_factory(contacts_config(contacts=[]))
    resp = h.sender.command("/oncall", "contact add sms +447700900999", user=BOB)
    assert resp.status_code == 200, resp.text
    h.wait_response("Added sms …0999")
    assert [m.kind for m in service.list_methods(h.ctx, BOB)] == ["sms"]
    h.sender.command("/oncall", "contact list", user=BOB)
    listed = h.wait_response("sms")
    assert listed["response_type"] == "ephemeral"


def test_oncall_contact_typo_is_one_error_not_the_whole_help(harness_factory):
    h = harness_factory(contacts_config(contacts=[]))
    h.sender.command("/oncall", "contact frobnicate", user=BOB)
    reply = h.wait_response("I don't know `contact frobnicate`")
    assert "/oncall who" not in reply["text"]
