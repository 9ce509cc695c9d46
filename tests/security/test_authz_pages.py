"""Who may press a page's Acknowledge / Escalate (issue 10): the people it was sent to, the commander of its
incident and admins; anyone else is refused and the escalation goes on. And `/page` to an unknown person is
refused at once, never "sent". Through the real HTTP endpoint with signed requests."""

from __future__ import annotations

from sqlmodel import select

from bot.paging import flows
from bot.paging.messages import PageContent
from storage.models import Incident, PageRecord
from tests.conftest import ALICE, BOB, REPORTER
from tests.paging.conftest import LEAD, paging_config

CAROL = "U0CAROL"
NOBODY = "U0NOBODY"


def _start(harness_factory):
    h = harness_factory(paging_config())
    for uid, name in ((LEAD, "Lee"), (CAROL, "Carol")):
        h.fake.add_user(uid, name)
    h.fake.add_channel("C0PAYMENTS", "payments")
    return h


def _page_bob(h, incident_id: int | None = None) -> int:
    page_id = flows.create_page(h.ctx, policy_name=f"{flows.ADHOC_PREFIX}user:{BOB}",
                                content=PageContent(title="Checkout 500s", details="", source=None),
                                requester=REPORTER, source="slack", channel_id="C0GENERAL", incident_id=incident_id)
    h.fake.wait_for(lambda f: any(c.params.get("users") == BOB for c in f.calls_to("conversations.open")))
    return page_id


def _page(h, page_id: int) -> PageRecord:
    with h.ctx.session() as s:
        return s.get(PageRecord, page_id)


def _click(h, action: str, page_id: int, user: str, expect: str) -> dict:
    before = len(h.responses())
    assert h.sender.block_action(action, str(page_id), user=user, channel="C0GENERAL").status_code == 200
    return h.fake.wait_for(lambda f: next((r for r in f.responses[before:] if expect in (r.get("text") or "")), None))


def test_outsider_is_refused_and_the_escalation_goes_on(harness_factory):
    h = _start(harness_factory)
    page_id = _page_bob(h)
    before = _page(h, page_id)
    for action in ("page_ack", "page_escalate"):
        refusal = _click(h, action, page_id, CAROL, "Only the people")
        assert refusal["response_type"] == "ephemeral" and refusal["replace_original"] is False
    after = _page(h, page_id)
    assert (after.state, after.acknowledged_by, after.pass_number, after.step_index) == \
        (before.state, None, before.pass_number, before.step_index)
    assert f"page:{page_id}:timeout" in h.ctx.services.scheduler.job_ids()


def test_the_person_paged_can_acknowledge(harness_factory):
    h = _start(harness_factory)
    page_id = _page_bob(h)
    assert h.sender.block_action("page_ack", str(page_id), user=BOB, channel="C0GENERAL").status_code == 200
    h.fake.wait_for(lambda f: _page(h, page_id).state == "acknowledged")
    assert _page(h, page_id).acknowledged_by == BOB


def test_an_admin_can_escalate(harness_factory):
    h = _start(harness_factory)
    page_id = _page_bob(h)
    _click(h, "page_escalate", page_id, ALICE, "")
    h.fake.wait_for(lambda f: (_page(h, page_id).pass_number, _page(h, page_id).step_index) != (1, 0))


def test_the_incidents_commander_can_acknowledge_and_others_in_it_cannot(harness_factory):
    h = _start(harness_factory)
    with h.ctx.session() as s:
        incident = Incident(number=7, title="Checkout down", severity="sev2", commander_id=CAROL, reporter_id=LEAD)
        s.add(incident)
        s.flush()
        incident_id = incident.id
    page_id = _page_bob(h, incident_id)
    _click(h, "page_ack", page_id, LEAD, "Only the people")  # the reporter is not the commander
    assert _page(h, page_id).state != "acknowledged"
    assert h.sender.block_action("page_ack", str(page_id), user=CAROL, channel="C0GENERAL").status_code == 200
    h.fake.wait_for(lambda f: _page(h, page_id).state == "acknowledged")
    assert _page(h, page_id).acknowledged_by == CAROL


def test_page_to_an_unknown_user_is_refused_not_sent(harness_factory):
    h = _start(harness_factory)
    r = h.sender.command("/page", f"<@{NOBODY}> Checkout 500s", user=REPORTER, channel="C0GENERAL")
    assert r.status_code == 200
    text = r.json()["text"]
    assert f"I can't find <@{NOBODY}>" in text and "nobody was paged" in text, text
    assert "sent" not in text and "Paging" not in text
    with h.ctx.session() as s:
        assert s.exec(select(PageRecord)).all() == []
    assert not any(c.params.get("users") == NOBODY for c in h.fake.calls_to("conversations.open"))
    assert not any("sent to" in (resp.get("text") or "") for resp in h.responses())


def test_page_to_a_known_user_is_still_sent(harness_factory):
    h = _start(harness_factory)
    r = h.sender.command("/page", f"<@{BOB}> Checkout 500s", user=REPORTER, channel="C0GENERAL")
    assert "Paging" in r.json()["text"]
    h.wait_response("sent to")
