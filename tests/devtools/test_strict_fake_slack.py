"""The strict fake Slack refuses what Slack would refuse and accepts what Slack accepts."""

from __future__ import annotations

import pytest

from bot.devtools.fake_slack import ALL_VIOLATIONS, FakeSlack


@pytest.fixture(autouse=True)
def forget_expected_violations():
    """These tests make violations on purpose; keep them out of the suite-wide no-violations check."""
    start = len(ALL_VIOLATIONS)
    yield
    del ALL_VIOLATIONS[start:]

TOKEN = "xoxb-test"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Declare"}, "blocks": [SECTION]}


def strict_fake() -> FakeSlack:
    fake = FakeSlack(strict=True)
    fake.add_channel("C1", "general")
    return fake


def call(fake: FakeSlack, method: str, **params):
    return fake.handle(method, params, TOKEN)[1]


def test_a_good_message_is_accepted_and_nothing_recorded():
    fake = strict_fake()
    assert call(fake, "chat.postMessage", channel="C1", text="hi", blocks=[SECTION])["ok"] is True
    assert fake.violations == []


def test_unknown_method_is_refused():
    fake = strict_fake()
    body = call(fake, "chat.postMesage", channel="C1", text="hi")
    assert body["error"] == "unknown_method"
    assert [v.method for v in fake.violations] == ["chat.postMesage"]


def test_unknown_argument_is_refused_with_slack_messages():
    fake = strict_fake()
    body = call(fake, "chat.postMessage", channel="C1", text="hi", colour="red")
    assert body["ok"] is False and body["error"] == "invalid_arguments"
    assert body["response_metadata"]["messages"] == ["[ERROR] unknown argument: colour"]
    assert fake.messages("C1") == []


def test_missing_required_argument_is_refused():
    fake = strict_fake()
    body = call(fake, "chat.postEphemeral", channel="C1", text="hi")
    assert body["error"] == "invalid_arguments"
    assert "[ERROR] missing required field: user" in body["response_metadata"]["messages"]


def test_invalid_blocks_are_refused():
    fake = strict_fake()
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert call(fake, "chat.postMessage", channel="C1", text="hi", blocks=[too_long])["error"] == "invalid_blocks"
    assert call(fake, "chat.postMessage", channel="C1", text="hi", blocks=[SECTION] * 51)["error"] == "invalid_blocks"
    assert call(fake, "chat.postMessage", channel="C1", text="hi", blocks=[{"type": "nope"}])["error"] == "invalid_blocks"
    header = {"type": "header", "text": {"type": "mrkdwn", "text": "x"}}
    assert call(fake, "chat.postMessage", channel="C1", text="hi", blocks=[header])["error"] == "invalid_blocks"
    assert len(fake.violations) == 4 and fake.messages("C1") == []


def test_duplicate_action_ids_in_a_block_are_refused():
    fake = strict_fake()
    button = {"type": "button", "text": {"type": "plain_text", "text": "Ack"}, "action_id": "ack"}
    actions = {"type": "actions", "elements": [button, dict(button)]}
    body = call(fake, "chat.postMessage", channel="C1", text="hi", blocks=[actions])
    assert body["error"] == "invalid_blocks"
    assert any("duplicate action_id 'ack'" in m for m in body["response_metadata"]["messages"])


def test_views_are_validated():
    fake = strict_fake()
    assert call(fake, "views.open", trigger_id="1.2.3", view=MODAL)["ok"] is True
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "t" * 25}}
    assert call(fake, "views.open", trigger_id="1.2.3", view=long_title)["error"] == "invalid_arguments"
    too_many = {**MODAL, "blocks": [SECTION] * 101}
    assert call(fake, "views.publish", user_id="U1", view={**too_many, "type": "home"})["error"] == "invalid_arguments"
    assert len(fake.violations) == 2


def test_over_long_topic_and_bad_channel_names_are_refused():
    fake = strict_fake()
    assert call(fake, "conversations.setTopic", channel="C1", topic="t" * 251)["error"] == "too_long"
    assert call(fake, "conversations.setTopic", channel="C1", topic="t" * 250)["ok"] is True
    assert call(fake, "conversations.create", name="Inc Bad")["error"] == "invalid_name_specials"
    assert call(fake, "conversations.create", name="inc-good")["ok"] is True
    assert [v.error for v in fake.violations] == ["too_long", "invalid_name_specials"]


def test_lenient_fake_accepts_unknown_arguments():
    fake = FakeSlack(strict=False)
    fake.add_channel("C1", "general")
    assert call(fake, "chat.postMessage", channel="C1", text="hi", colour="red")["ok"] is True
    assert fake.violations == []
