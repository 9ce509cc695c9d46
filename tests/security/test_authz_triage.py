"""Triage Accept can page a rotation, so only the incident's participants (reporter, invited or paged responders,
role holders) and admins may accept; the rule lives in the assist service, and the button only reports it."""

from __future__ import annotations

from sqlmodel import select

from bot.assist import service as assist_service
from bot.assist.messages import ACCEPT_ACTION_ID
from storage.models import Incident, PageRecord, SuggestionRecord
from tests.assist.conftest import CONFIG, button_value, wait_triage
from tests.conftest import ALICE, BOB, REPORTER

CAROL = "U0CAROL"  # in the workspace, not in the incident, not an admin


def _suggestion(h) -> SuggestionRecord:
    with h.ctx.session() as s:
        return s.exec(select(SuggestionRecord).where(SuggestionRecord.kind == "triage")).one()


def _pages(h) -> list[PageRecord]:
    with h.ctx.session() as s:
        return list(s.exec(select(PageRecord)))


def _start(harness_factory):
    h = harness_factory(CONFIG)
    h.fake.add_user(CAROL, "Carol")
    channel = h.declare("sev3 payments checkout outage for all customers")
    post = wait_triage(h, channel)
    return h, channel, post


def test_outsider_click_is_refused_and_nothing_is_paged(harness_factory):
    h, channel, post = _start(harness_factory)
    value, ts = button_value(post, ACCEPT_ACTION_ID), post.response["ts"]
    before = len(h.responses())
    r = h.sender.block_action(ACCEPT_ACTION_ID, value, user=CAROL, channel=channel, message_ts=ts)
    assert r.status_code == 200
    note = h.fake.wait_for(lambda f: next((x for x in f.responses[before:]
                                          if "participants" in (x.get("text") or "")), None))
    assert note["response_type"] == "ephemeral" and "nothing was changed" in note["text"]
    row = _suggestion(h)
    assert (row.status, row.decided_by) == ("shown", None)
    assert _pages(h) == []
    with h.ctx.session() as s:
        assert s.exec(select(Incident)).one().severity == "sev3"
    # The suggestion is still open for someone allowed.
    changed, _ = assist_service.accept(h.ctx, row.id, REPORTER)
    assert changed and _suggestion(h).decided_by == REPORTER


def test_service_refuses_an_outsider_without_the_button(harness_factory):
    h, _, _ = _start(harness_factory)
    row = _suggestion(h)
    changed, text = assist_service.accept(h.ctx, row.id, CAROL)
    assert not changed and "participants" in text
    assert _suggestion(h).status == "shown" and _pages(h) == []


def test_participant_may_accept(harness_factory):
    h, channel, post = _start(harness_factory)
    row = _suggestion(h)
    changed, text = assist_service.accept(h.ctx, row.id, REPORTER)  # the reporter takes part
    assert changed and "accepted" in text.lower()
    assert (_suggestion(h).status, _suggestion(h).decided_by) == ("accepted", REPORTER)
    with h.ctx.session() as s:  # the heuristic's SEV1 ("outage", "all customers") was applied
        assert s.exec(select(Incident)).one().severity == "sev1"


def test_admin_may_accept_without_taking_part(harness_factory):
    h, channel, post = _start(harness_factory)
    row = _suggestion(h)
    changed, _ = assist_service.accept(h.ctx, row.id, ALICE)
    assert changed and _suggestion(h).decided_by == ALICE


def test_role_holder_may_accept(harness_factory):
    h, channel, post = _start(harness_factory)
    h.command(f"role scribe <@{CAROL}>", channel=channel)
    h.fake.wait_for(lambda f: any("is now *scribe*" in (c.params.get("text") or "") for c in f.calls_to("chat.postMessage")))
    changed, _ = assist_service.accept(h.ctx, _suggestion(h).id, CAROL)
    assert changed and _suggestion(h).decided_by == CAROL
