"""A real Alertmanager 0.25 (Debian's prometheus-alertmanager) in front of Firewatch: a group of 50 alerts gives
one page DM, one incident and one escalation per step; repeat notifications give nothing; the resolution is said
once; a re-fire after the incident was resolved opens a new incident linked as recurred."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlmodel import select

from bot.paging import flows, store
from storage.models import Incident, PageRecord
from tests.paging.conftest import LEAD, TOKEN
from tests.paging.test_group_paging import _resolve_incident, channel_texts, dms

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def alertmanager(tmp_path):
    """Start Alertmanager on loopback with a webhook receiver; yields a function (firewatch_url) -> API url."""
    if shutil.which(ALERTMANAGER) is None:
        pytest.fail(f"{ALERTMANAGER} is missing: apt-get install prometheus-alertmanager (.ci/run does)")
    procs = []

    def start(firewatch_url: str) -> str:
        port = _free_port()
        config = {"route": {"receiver": "firewatch", "group_by": ["alertname"], "group_wait": "200ms",
                            "group_interval": "1s", "repeat_interval": "2s"},
                  "receivers": [{"name": "firewatch", "webhook_configs": [{
                      "url": f"{firewatch_url}/webhooks/alertmanager", "send_resolved": True, "max_alerts": 0,
                      "http_config": {"authorization": {"type": "Bearer", "credentials": TOKEN}}}]}]}
        path = tmp_path / "alertmanager.yml"
        path.write_text(json.dumps(config))  # JSON is YAML
        proc = subprocess.Popen([ALERTMANAGER, f"--config.file={path}", f"--storage.path={tmp_path / 'data'}",
                                 f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / "alertmanager.log", "w"))
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError((tmp_path / "alertmanager.log").read_text())
            time.sleep(0.1)  # polling readiness of a starting process, not asserting on time

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def _alerts(count: int, starts: datetime, ends: datetime | None = None) -> list[dict]:
    return [{"labels": {"alertname": "Fire", "severity": "critical", "pod": f"api-{i}"},
             "annotations": {"summary": "Checkout is on fire"}, "startsAt": starts.isoformat(),
             **({"endsAt": ends.isoformat()} if ends else {}), "generatorURL": "http://prometheus:9090/graph"}
            for i in range(count)]


def _notifications_sent(url: str) -> float:
    """Alertmanager's own count of webhook notifications sent (its /metrics)."""
    for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
        if line.startswith("alertmanager_notifications_total") and 'integration="webhook"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _wait(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError("Alertmanager/Firewatch did not get there in time")
        time.sleep(0.1)
    return value


def _pages(h) -> list[PageRecord]:
    with h.ctx.session() as s:
        return list(s.exec(select(PageRecord).order_by(PageRecord.id)))


def test_real_alertmanager_storm_repeat_resolve_and_refire(paging, alertmanager):
    h = paging(open_incident=True)
    am = alertmanager(h.running.url)
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    assert httpx.post(f"{am}/api/v2/alerts", json=_alerts(50, start), timeout=5).status_code == 200
    page = _wait(lambda: next((p for p in _pages(h) if "[FIRING:50]" in p.title), None))
    h.fake.wait_for(lambda f: f.calls_to("pins.add") and dms(f))
    _wait(lambda: _pages(h)[0].incident_id)  # the DM goes first; the incident is linked once it is set up

    sent = _notifications_sent(am)
    _wait(lambda: _notifications_sent(am) >= sent + 2)  # two repeat notifications of the same group
    with h.ctx.session() as s:
        incidents = s.exec(select(Incident)).all()
    assert len(_pages(h)) == 1 and len(incidents) == 1 and len(dms(h.fake)) == 1
    incident = incidents[0]

    flows.on_step_timeout(h.ctx, page.id, 1, 0)
    assert len(dms(h.fake)) == 2 and LEAD in h.fake.channels[dms(h.fake)[-1].params["channel"]]["members"]
    assert len([t for t in channel_texts(h.fake, incident.channel_id) if "escalated page" in t]) == 1

    now = datetime.now(timezone.utc)
    httpx.post(f"{am}/api/v2/alerts", json=_alerts(50, start, ends=now - timedelta(seconds=1)), timeout=5)
    _wait(lambda: _pages(h)[0].state == "resolved")
    # The page is resolved in the database first, then said in Slack by the intake thread: wait for the saying.
    _wait(lambda: any("resolved" in t.lower() for t in channel_texts(h.fake, incident.channel_id)))
    said = [t for t in channel_texts(h.fake, incident.channel_id) if "resolved" in t.lower()]
    assert len(said) == 1 and "[FIRING" not in said[0], said

    _resolve_incident(h, incident.id)
    httpx.post(f"{am}/api/v2/alerts", json=_alerts(50, datetime.now(timezone.utc)), timeout=5)
    second = _wait(lambda: len(_pages(h)) == 2 and _pages(h)[1].incident_id and _pages(h)[1])
    assert second.incident_id not in (None, incident.id)
    with h.ctx.session() as s:
        assert store.recurred_from(s, second.incident_id) == incident.id
        assert len(s.exec(select(Incident)).all()) == 2
    # Still one resolution message in the first incident's channel once everything has settled.
    assert len([t for t in channel_texts(h.fake, incident.channel_id) if "resolved" in t.lower()]) == 1
