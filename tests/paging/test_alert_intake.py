"""Alertmanager and Grafana webhooks, black box: auth, validation, de-duplication, paging, resolution."""

from __future__ import annotations

import json

import httpx
from sqlmodel import select

from bot.paging import intake
from bot.rotations import service as oncall
from storage.models import AlertRecord, BurdenRecord, PageRecord
from tests.paging.conftest import FALLBACK, TOKEN, load, payload


def post(h, path: str, body: bytes, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(h.running.url + path, content=body, headers=headers, timeout=10)


def dms(fake) -> list:
    return [c for c in fake.calls_to("chat.postMessage") if c.params["channel"].startswith("D")]


def test_firing_pages_current_oncall_once_and_resolution_follows(paging):
    from bot.core.metrics import REGISTRY

    h = paging()
    fake = h.fake
    received = {"source": "alertmanager", "status": "firing"}
    before = REGISTRY.get_sample_value("firewatch_alerts_received_total", received) or 0.0
    r = post(h, "/webhooks/alertmanager", payload("alertmanager_firing.json"))
    assert r.status_code == 200 and r.json()["new"] == 1
    assert REGISTRY.get_sample_value("firewatch_alerts_received_total", received) == before + 1
    fake.wait_for(lambda f: dms(f))
    oncall_user = oncall.on_call(h.ctx, "payments")
    opened = fake.calls_to("conversations.open")
    assert [c.params["users"] for c in opened] == [oncall_user]
    dm = dms(fake)[0]
    assert dm.params["channel"] == opened[0].response["channel"]["id"]
    assert opened[0].seq < dm.seq  # conversations.open, then chat.postMessage
    actions = [e["action_id"] for b in dm.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {"page_ack", "page_escalate"} <= set(actions)
    assert "Fire" in dm.params["text"]

    again = post(h, "/webhooks/alertmanager", payload("alertmanager_firing.json"))
    assert again.status_code == 200 and again.json() == {"ok": True, "received": 1, "new": 0, "duplicates": 1}
    import time
    time.sleep(0.5)
    assert len(dms(fake)) == 1 and len(fake.calls_to("conversations.open")) == 1

    resolved = post(h, "/webhooks/alertmanager", payload("alertmanager_resolved.json"))
    assert resolved.status_code == 200 and resolved.json()["new"] == 1
    note = fake.wait_for(lambda f: [c for c in f.calls_to("chat.postMessage") if c.params.get("thread_ts") == dm.response["ts"]])
    assert "The alert resolved" in note[0].params["text"]
    with h.ctx.session() as s:
        page = s.exec(select(PageRecord)).one()
        assert page.state == "resolved" and page.alert_key
        assert [a.status for a in s.exec(select(AlertRecord).order_by(AlertRecord.id))] == ["firing", "resolved"]
        burden = s.exec(select(BurdenRecord)).all()
        assert [(b.user_id, b.rotation, b.page_id) for b in burden] == [(oncall_user, "payments", page.id)]
        assert burden[0].weight > 0
    # The DM's buttons were replaced by the status, so nobody acknowledges a resolved page.
    updated = fake.wait_for(lambda f: f.calls_to("chat.update"))[-1]
    assert updated.params["ts"] == dm.response["ts"]
    assert not any(b["type"] == "actions" and any(e.get("action_id") == "page_ack" for e in b["elements"])
                   for b in updated.params["blocks"])


def test_auth_and_malformed_payloads(paging):
    h = paging()
    body = payload("alertmanager_firing.json")
    assert post(h, "/webhooks/alertmanager", body, token=None).status_code == 401
    assert post(h, "/webhooks/alertmanager", body, token="wrong").status_code == 401
    broken = post(h, "/webhooks/alertmanager", b'{"alerts": [')
    assert broken.status_code == 400 and "error" in broken.json()
    missing = post(h, "/webhooks/alertmanager", json.dumps({"version": "4"}).encode())
    assert missing.status_code == 400 and "alerts" in missing.json()["error"]
    no_labels = post(h, "/webhooks/grafana", json.dumps({"alerts": [{"status": "firing"}]}).encode())
    assert no_labels.status_code == 400
    with h.ctx.session() as s:
        assert s.exec(select(AlertRecord)).all() == []
    assert h.fake.calls_to("conversations.open") == []


def test_unrouted_alert_is_stored_and_reported_not_dropped(paging):
    h = paging()
    data = load("alertmanager_firing.json")
    data["alerts"][0]["labels"] = {"alertname": "DiskFull", "team": "storage", "note": "@channel <!here> look"}
    r = post(h, "/webhooks/alertmanager", json.dumps(data).encode())
    assert r.status_code == 200
    report = h.fake.wait_for(lambda f: [c for c in f.calls_to("chat.postMessage") if c.params["channel"] == FALLBACK])
    text = json.dumps(report[0].params)
    assert "DiskFull" in text
    assert "<!here>" not in text and "@channel" not in text
    with h.ctx.session() as s:
        row = s.exec(select(AlertRecord)).one()
        assert row.route_policy is None and row.processed_at is not None
        assert s.exec(select(PageRecord)).all() == []


def test_grafana_webhook_pages_and_can_open_an_incident(paging):
    h = paging(open_incident=True)
    data = load("grafana_webhook_firing.json")
    for alert in data["alerts"]:
        alert["labels"]["alertname"] = "Fire"
    r = post(h, "/webhooks/grafana", json.dumps(data).encode())
    assert r.status_code == 200
    intake.process_pending(h.ctx)  # waits for the group's lane (page, then incident) to finish
    create = h.fake.calls_to("conversations.create")
    assert len(create) == 1 and create[0].params["name"].startswith("inc-1-alert")
    assert len(data["alerts"]) > 1
    with h.ctx.session() as s:
        # One page for the whole notification group, carrying every alert.
        pages = s.exec(select(PageRecord)).all()
        assert len(pages) == 1 and pages[0].incident_id == 1
        assert pages[0].title.startswith(f"[FIRING:{len(data['alerts'])}]")
    assert len(dms(h.fake)) == 1
