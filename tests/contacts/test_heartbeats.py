"""Heartbeats: a beat refreshes; silence past interval + grace pages the policy once; a beat back resolves it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.contacts import heartbeats, routes
from storage.models import PageRecord
from tests.contacts.conftest import PAYMENTS_CHANNEL, T0, WEBHOOK_TOKEN

WATCHDOG = [{"name": "alertmanager-watchdog", "interval": "5m", "grace": "1m", "policy": "payments"}]


def pages(ctx) -> list[PageRecord]:
    with ctx.session() as s:
        return list(s.exec(select(PageRecord).where(PageRecord.alert_key == "heartbeat:alertmanager-watchdog")))


def test_a_stopped_heartbeat_pages_once_after_interval_plus_grace_and_says_when_it_is_back(contacts_ctx, fake_slack):
    ctx = contacts_ctx(heartbeats=WATCHDOG)
    heartbeats.beat(ctx, "alertmanager-watchdog", now=T0)
    assert heartbeats.check_all(ctx, now=T0 + timedelta(minutes=6)) == []  # exactly at the deadline: not yet
    assert pages(ctx) == []
    assert heartbeats.check_all(ctx, now=T0 + timedelta(minutes=6, seconds=1)) == ["alertmanager-watchdog"]
    assert heartbeats.check_all(ctx, now=T0 + timedelta(minutes=30)) == []  # once, not every check
    (page,) = pages(ctx)
    assert page.policy == "payments" and page.state == "triggered" and "missed" in page.title

    assert heartbeats.beat(ctx, "alertmanager-watchdog", now=T0 + timedelta(minutes=31)) == {"recovered": True}
    assert pages(ctx)[0].state == "resolved"
    back = [c for c in fake_slack.fake.calls_to("chat.postMessage")
            if c.params["channel"] == PAYMENTS_CHANNEL and "is back after 31m of silence" in (c.params.get("text") or "")]
    assert len(back) == 1
    # A second silence pages again (a new page).
    assert heartbeats.check_all(ctx, now=T0 + timedelta(minutes=38)) == ["alertmanager-watchdog"]
    assert len(pages(ctx)) == 2


def test_a_heartbeat_never_seen_starts_its_clock_instead_of_paging_at_start_up(contacts_ctx):
    ctx = contacts_ctx(heartbeats=WATCHDOG)
    assert heartbeats.check_all(ctx, now=T0) == []
    assert heartbeats.check_all(ctx, now=T0 + timedelta(minutes=5)) == []
    assert heartbeats.check_all(ctx, now=T0 + timedelta(minutes=7)) == ["alertmanager-watchdog"]


def test_heartbeat_webhook_needs_the_bearer_token_and_a_known_name(contacts_ctx):
    ctx = contacts_ctx(heartbeats=WATCHDOG)
    client = TestClient(Starlette(routes=routes.heartbeat_routes(ctx)))
    assert client.post("/webhooks/heartbeat/alertmanager-watchdog").status_code == 401
    wrong = client.post("/webhooks/heartbeat/alertmanager-watchdog", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    auth = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    unknown = client.post("/webhooks/heartbeat/nope", headers=auth)
    assert unknown.status_code == 404 and "alertmanager-watchdog" in unknown.json()["error"]
    ok = client.post("/webhooks/heartbeat/alertmanager-watchdog", headers=auth, json={"alerts": []})
    assert ok.status_code == 200 and ok.json() == {"ok": True, "heartbeat": "alertmanager-watchdog", "recovered": False}
    with ctx.session() as s:
        from storage.tables_contacts import HeartbeatRecord
        assert s.get(HeartbeatRecord, "alertmanager-watchdog").last_beat_at is not None
