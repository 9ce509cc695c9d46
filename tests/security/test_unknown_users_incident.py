"""`/incident role <role> <@user>` checks the user with Slack (users.info) before anything is recorded: an unknown
or deactivated user is refused at once with a clear message and no role is assigned."""

from __future__ import annotations

from sqlmodel import select

from storage.models import AuditLog, IncidentRole, Participant, TimelineEvent
from tests.conftest import BOB

NOBODY = "U0NOBODY"


def _roles(h) -> list[tuple[str, str]]:
    with h.ctx.session() as s:
        return [(r.role, r.user_id) for r in s.exec(select(IncidentRole))]


def _posts_to(h, channel: str) -> list:
    return [c for c in h.fake.calls_to("chat.postMessage") if c.params["channel"] == channel]


def test_role_for_a_user_who_does_not_exist_is_refused_and_nothing_assigned(harness):
    channel = harness.declare()
    harness.command(f"role commander <@{NOBODY}>", channel=channel)
    reply = harness.wait_response(NOBODY)
    assert reply["response_type"] == "ephemeral"
    assert "no user `U0NOBODY` in this workspace" in reply["text"]
    assert f"<@{NOBODY}>" not in reply["text"]  # named as plain text, never a mention
    assert [c.params["user"] for c in harness.fake.attempts("users.info")] == [NOBODY]
    assert harness.fake.attempts("conversations.invite")[-1].params.get("users") != NOBODY
    assert _roles(harness) == []
    assert not any(NOBODY in str(c.params) for c in _posts_to(harness, channel))
    with harness.ctx.session() as s:
        assert s.exec(select(TimelineEvent).where(TimelineEvent.kind == "role")).all() == []
        assert s.exec(select(Participant).where(Participant.user_id == NOBODY)).all() == []
        assert s.exec(select(AuditLog).where(AuditLog.action == "role:commander")).all() == []


def test_role_for_a_deactivated_user_is_refused(harness):
    channel = harness.declare()
    harness.fake.add_user("U0GONE", "Gone")
    harness.fake.users["U0GONE"]["deleted"] = True
    harness.command("role scribe <@U0GONE>", channel=channel)
    reply = harness.wait_response("U0GONE")
    assert "deactivated" in reply["text"]
    assert _roles(harness) == []


def test_role_refused_with_a_retry_message_when_slack_cannot_check(harness):
    channel = harness.declare()
    harness.fake.fail("users.info", error="internal_error", times=5)
    harness.command(f"role commander <@{BOB}>", channel=channel)
    reply = harness.wait_response("could not check")
    assert "nothing was changed" in reply["text"]
    assert _roles(harness) == []


def test_role_for_a_real_user_is_assigned(harness):
    channel = harness.declare()
    harness.command(f"role commander <@{BOB}>", channel=channel)
    harness.fake.wait_for(lambda f: any("is now *commander*" in (c.params.get("text") or "")
                                        for c in f.calls_to("chat.postMessage")))
    assert _roles(harness) == [("commander", BOB)]
    assert BOB in harness.fake.channels[channel]["members"]
