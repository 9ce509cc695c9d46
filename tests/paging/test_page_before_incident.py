"""The page's DM goes out before any incident channel work, and one group's slow incident set-up never holds up
another group's page; a page left without its incident (a crash in between) gets it, once, on the next run."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.incidents import messages as incident_messages
from bot.paging import intake
from storage.models import AlertRecord, Incident, PageRecord
from tests.paging.test_alert_intake import post
from tests.paging.test_group_paging import deliver, dms, group_body


def _body(group: str, pods: range) -> bytes:
    body = json.loads(group_body(pods))
    body["groupKey"] = group
    for alert in body["alerts"]:
        alert["fingerprint"] = f"{group}-{alert['fingerprint']}"
    return json.dumps(body).encode()


def test_the_dm_goes_out_before_the_incident_channel_while_slack_rate_limits_channel_creation(paging):
    h = paging(open_incident=True)
    h.fake.fail("conversations.create", status=429, retry_after=1)
    deliver(h, group_body(range(3)))
    dm = dms(h.fake)[0]
    first_create = h.fake.attempts("conversations.create")[0]
    assert first_create.status == 429
    assert dm.seq < first_create.seq  # the page did not wait for the channel
    with h.ctx.session() as s:
        page = s.exec(select(PageRecord)).one()
        incident = s.exec(select(Incident)).one()
        alerts = s.exec(select(AlertRecord)).all()
    assert page.incident_id == incident.id and incident.channel_id
    assert {a.incident_id for a in alerts} == {incident.id} and all(a.processed_at for a in alerts)
    # The person the page reached is invited to the incident channel.
    paged = [u for u in h.fake.channels[dm.params["channel"]]["members"] if u != "UFIREWATCH"]
    assert set(paged) <= set(h.fake.channels[incident.channel_id]["members"])


def test_a_stuck_incident_set_up_of_one_group_does_not_hold_up_another_groups_page(paging):
    h = paging(open_incident=True)
    stuck = h.fake.hold("conversations.create")
    try:
        assert post(h, "/webhooks/alertmanager", _body("group-a", range(2))).status_code == 200
        h.fake.wait_for(lambda f: f.attempts("conversations.create"))  # group a is stuck in its set-up
        assert post(h, "/webhooks/alertmanager", _body("group-b", range(2))).status_code == 200
        # Group b is paged while group a's channel creation is still unanswered.
        h.fake.wait_for(lambda f: len(dms(f)) == 2)
    finally:
        stuck.set()
    intake.process_pending(h.ctx)
    with h.ctx.session() as s:
        pages = s.exec(select(PageRecord).order_by(PageRecord.id)).all()
        incidents = s.exec(select(Incident)).all()
    assert len(pages) == 2 and pages[0].alert_key != pages[1].alert_key
    assert len(incidents) == 2 and {p.incident_id for p in pages} == {i.id for i in incidents}
    assert len(dms(h.fake)) == 2


def test_a_page_left_without_its_incident_gets_exactly_one_on_the_next_run(paging, monkeypatch):
    from bot.incidents import store as incident_store

    h = paging(open_incident=True)
    real_declare = incident_store.declare

    def crash(*_a, **_kw):
        raise RuntimeError("process died while declaring")

    monkeypatch.setattr(incident_store, "declare", crash)
    deliver(h, group_body(range(3)))
    with h.ctx.session() as s:
        page = s.exec(select(PageRecord)).one()
        assert page.incident_id is None and s.exec(select(Incident)).all() == []
        assert all(a.processed_at is None for a in s.exec(select(AlertRecord)))  # still pending
    assert len(dms(h.fake)) == 1

    monkeypatch.setattr(incident_store, "declare", real_declare)
    assert intake.process_pending(h.ctx) == 3  # the sweep's run
    intake.process_pending(h.ctx)  # and another: nothing left to do
    with h.ctx.session() as s:
        pages = s.exec(select(PageRecord)).all()
        incidents = s.exec(select(Incident)).all()
    assert len(pages) == 1 and len(incidents) == 1 and pages[0].incident_id == incidents[0].id
    assert len(dms(h.fake)) == 1 and len(h.fake.calls_to("conversations.create")) == 1


@pytest.mark.parametrize("recurred", [None, 3])
def test_the_summary_says_which_incident_recurred(recurred):
    from storage.types import utcnow

    incident = Incident(id=9, number=4, title="[alert] Fire", description="", severity="sev2",
                        status="investigating", created_at=utcnow(), updated_at=utcnow())
    text = json.dumps(incident_messages.summary_blocks(incident, {}, "inc", recurred_from=recurred))
    assert ("Recurred*: incident INC-3" in text) == (recurred is not None)
