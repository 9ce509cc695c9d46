"""`GET /metrics` moves with real traffic; `GET /readyz` reports database, migrations and scheduler state."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot.core.metrics import job_label


def sample(url: str, name: str, **labels) -> float:
    """One sample's value from the served exposition (0 when the series does not exist yet)."""
    body = httpx.get(url + "/metrics").text
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def test_signed_command_moves_request_ack_and_slack_counters(harness):
    url = harness.running.url
    before_requests = sample(url, "firewatch_requests_total", kind="command", outcome="ok")
    before_acks = sample(url, "firewatch_ack_seconds_count", kind="command")
    before_posts = sample(url, "firewatch_slack_api_calls_total", method="conversations.create", outcome="ok")
    harness.declare()
    assert sample(url, "firewatch_requests_total", kind="command", outcome="ok") == before_requests + 1
    assert sample(url, "firewatch_ack_seconds_count", kind="command") == before_acks + 1
    assert sample(url, "firewatch_slack_api_calls_total", method="conversations.create",
                  outcome="ok") == before_posts + 1
    assert sample(url, "firewatch_scheduler_leader") == 1.0


def test_metrics_exposition_is_prometheus_text(harness):
    response = httpx.get(harness.running.url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(response.text)}
    assert {"firewatch_requests", "firewatch_slack_api_calls", "firewatch_scheduler_jobs",
            "firewatch_scheduler_leader", "firewatch_llm_calls", "firewatch_notifications"} <= names


def test_unsigned_request_counts_as_rejected(harness):
    url = harness.running.url
    before = sample(url, "firewatch_requests_total", kind="unparsed", outcome="rejected")
    assert httpx.post(url + "/slack/events", content=b"command=/incident").status_code == 401
    assert sample(url, "firewatch_requests_total", kind="unparsed", outcome="rejected") == before + 1


def test_job_labels_stay_bounded():
    assert job_label("page:12:timeout") == "page:timeout"
    assert job_label("page:7:retry") == "page:retry"
    assert job_label("handoff:payments-primary") == "handoff"
    assert job_label("firewatch:sweep") == "firewatch:sweep"


def test_readyz_reports_migrations_and_scheduler(harness):
    ready = httpx.get(harness.running.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "database": "ok", "migrations": "current", "scheduler": "leader"}


def test_readyz_unready_when_schema_is_behind(harness):
    with harness.ctx.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001_old'"))
    stale = httpx.get(harness.running.url + "/readyz")
    assert stale.status_code == 503
    assert stale.json()["ready"] is False
    assert "firewatch db upgrade" in stale.json()["migrations"]


def test_readyz_unready_once_the_scheduler_stops(harness):
    harness.ctx.services.scheduler.shutdown()
    stopped = httpx.get(harness.running.url + "/readyz")
    assert stopped.status_code == 503 and stopped.json()["scheduler"] == "stopped"
