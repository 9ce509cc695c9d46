"""One page per alert group: a storm of 50 alerts is one DM, one incident, one escalation per step; alerts that
join later update the DM in place; a repeat says nothing; the group's resolution is said once."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.paging import flows, intake
from bot.rotations import service as oncall
from storage.models import Incident, PageRecord
from tests.paging.conftest import LEAD
from tests.paging.test_alert_intake import post

GROUP_KEY = '{}/{team="payments"}:{alertname="Fire"}'


def group_body(pods: range, status: str = "firing", starts: str = "2026-12-03T10:00:00Z") -> bytes:
    alerts = [{"status": status, "labels": {"alertname": "Fire", "severity": "critical", "pod": f"api-{i}"},
               "annotations": {"summary": "Checkout is on fire", "runbook_url": "https://runbooks.example/fire"},
               "startsAt": starts, "endsAt": "2026-12-03T11:00:00Z" if status == "resolved" else
               "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph", "fingerprint": f"fp{i:04d}"}
              for i in pods]
    return json.dumps({"version": "4", "status": status, "receiver": "firewatch", "groupKey": GROUP_KEY,
                       "groupLabels": {"alertname": "Fire"}, "commonLabels": {"alertname": "Fire"},
                       "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "alerts": alerts}).encode()


def dms(fake) -> list:
    """Page DMs (not the resolution notes posted in their threads)."""
    return [c for c in fake.calls_to("chat.postMessage") if c.params["channel"].startswith("D")
            and not c.params.get("thread_ts")]


def paging_calls(fake) -> list:
    """Every Slack call paging makes: DMs, in-place updates, channel creation and page lines in channels."""
    return [c.seq for c in fake.calls if c.method in ("conversations.open", "conversations.create", "chat.update")
            or (c.method == "chat.postMessage" and (c.params["channel"].startswith("D")
                                                     or "page `" in (c.params.get("text") or "").lower()))]


def deliver(h, body: bytes) -> dict:
    """POST like Alertmanager, then finish processing (the intake lock makes this wait for the worker too)."""
    r = post(h, "/webhooks/alertmanager", body)
    assert r.status_code == 200, r.text
    intake.process_pending(h.ctx)
    return r.json()


def channel_texts(fake, channel: str) -> list[str]:
    return [c.params.get("text") or "" for c in fake.calls_to("chat.postMessage") if c.params["channel"] == channel]


def test_a_storm_of_50_alerts_is_one_page_one_incident_one_escalation_per_step(paging):
    h = paging(open_incident=True)
    assert deliver(h, group_body(range(50)))["new"] == 50
    with h.ctx.session() as s:
        pages = s.exec(select(PageRecord)).all()
        incidents = s.exec(select(Incident)).all()
    assert len(pages) == 1 and len(incidents) == 1
    page, incident = pages[0], incidents[0]
    assert page.title.startswith("[FIRING:50] Fire") and page.incident_id == incident.id
    assert len(dms(h.fake)) == 1
    assert "… and 40 more" in json.dumps(dms(h.fake)[0].params["blocks"], ensure_ascii=False)

    # Alertmanager's repeat notification: nothing new from paging (other features' own posts aside).
    before = paging_calls(h.fake)
    assert deliver(h, group_body(range(50)))["new"] == 0
    assert paging_calls(h.fake) == before

    # Two more alerts join the open group: the same DM is updated in place, nobody is paged again.
    deliver(h, group_body(range(52)))
    assert len(dms(h.fake)) == 1
    update = h.fake.calls_to("chat.update")[-1]
    assert update.params["ts"] == dms(h.fake)[0].response["ts"] and "[FIRING:52]" in update.params["text"]
    assert any(b["type"] == "actions" and b["elements"][0]["action_id"] == "page_ack" for b in update.params["blocks"])

    # Escalation: one DM to the next step, one "escalated" line, however many alerts the group has.
    flows.on_step_timeout(h.ctx, page.id, 1, 0)
    lead_dms = [c for c in dms(h.fake) if LEAD in h.fake.channels[c.params["channel"]]["members"]]
    assert len(lead_dms) == 1 and len(dms(h.fake)) == 2
    assert len([t for t in channel_texts(h.fake, incident.channel_id) if "escalated page" in t]) == 1

    # The group resolves: one resolution message in the incident channel, not reading [FIRING].
    deliver(h, group_body(range(52), status="resolved"))
    with h.ctx.session() as s:
        assert s.get(PageRecord, page.id).state == "resolved"
    said = [t for t in channel_texts(h.fake, incident.channel_id) if "resolved" in t.lower()]
    assert len(said) == 1 and "[FIRING" not in said[0], said


def test_acknowledging_acts_on_the_group_and_a_partial_resolve_keeps_the_page(paging):
    h = paging()
    deliver(h, group_body(range(3)))
    with h.ctx.session() as s:
        page = s.exec(select(PageRecord)).one()
    first = oncall.on_call(h.ctx, "payments")
    deliver(h, group_body(range(1), status="resolved"))  # one of three resolved: still open, DM shows two
    with h.ctx.session() as s:
        assert s.get(PageRecord, page.id).state == "triggered"
    assert "[FIRING:2]" in h.fake.calls_to("chat.update")[-1].params["text"]
    assert flows.acknowledge(h.ctx, page.id, first)[0]
    deliver(h, group_body(range(3, 6)))  # more alerts while acknowledged: they join, no new page
    with h.ctx.session() as s:
        assert len(s.exec(select(PageRecord)).all()) == 1
    assert len(dms(h.fake)) == 1


def _resolve_incident(h, incident_id: int) -> None:
    from bot.incidents import store as incident_store

    with h.ctx.session() as s:
        incident_store.resolve(s, s.get(Incident, incident_id), summary=None, actor=LEAD)


def _fire_resolve_refire(h) -> tuple[Incident, list[Incident]]:
    deliver(h, group_body(range(3)))
    deliver(h, group_body(range(3), status="resolved"))
    with h.ctx.session() as s:
        first = s.exec(select(Incident)).one()
    _resolve_incident(h, first.id)
    deliver(h, group_body(range(3), starts="2026-12-03T12:00:00Z"))  # the same group fires again
    with h.ctx.session() as s:
        return first, list(s.exec(select(Incident).order_by(Incident.id)))


def test_refire_after_the_incident_was_resolved_opens_a_new_incident_linked_as_recurred(paging):
    from bot.paging import store

    h = paging(open_incident=True)
    first, incidents = _fire_resolve_refire(h)
    assert len(incidents) == 2
    new = incidents[1]
    assert new.status != "resolved" and f"incident {first.number}" in new.description
    with h.ctx.session() as s:
        assert store.recurred_from(s, new.id) == first.id
        pages = s.exec(select(PageRecord).order_by(PageRecord.id)).all()
        assert [p.incident_id for p in pages] == [first.id, new.id] and pages[1].state == "triggered"
    assert len(h.fake.calls_to("conversations.create")) == 2
    assert len(dms(h.fake)) == 2
    # The new incident's pinned summary names the incident it recurred from.
    summary = h.fake.wait_for(lambda f: next((c for c in f.calls_to("chat.postMessage")
                                              if c.params.get("channel") == new.channel_id
                                              and "Recurred" in str(c.params.get("blocks"))), None))
    assert f"*Recurred*: incident {h.ctx.prefix.upper()}-{first.number}" in str(summary.params["blocks"])


def test_refire_within_reopen_within_reopens_the_incident(paging, monkeypatch):
    h = paging(open_incident=True)
    monkeypatch.setattr(h.ctx.config.webhooks, "reopen_within", __import__("datetime").timedelta(hours=1))
    first, incidents = _fire_resolve_refire(h)
    assert [i.id for i in incidents] == [first.id] and incidents[0].status == "investigating"
    assert len(h.fake.calls_to("conversations.create")) == 1
    assert any("Reopened" in t for t in channel_texts(h.fake, first.channel_id))
