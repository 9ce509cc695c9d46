"""Prometheus metrics every feature records into, served at `GET /metrics`.

One registry of our own (not the process-wide default) so the exposition holds Firewatch's series only and
tests can read values without other libraries' collectors. Label values are small closed sets (a Slack method,
a notification method, an outcome word), never user text: a label per incident or user would grow without end.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()

REQUESTS = Counter("firewatch_requests", "Slack requests and webhooks handled, by kind and outcome.",
                   ["kind", "outcome"], registry=REGISTRY)
ACK_SECONDS = Histogram("firewatch_ack_seconds", "Time from receiving a Slack request to acknowledging it.",
                        ["kind"], registry=REGISTRY,
                        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5))
SLACK_CALLS = Counter("firewatch_slack_api_calls", "Slack Web API calls, by method and outcome (ok, error, retry).",
                      ["method", "outcome"], registry=REGISTRY)
LLM_CALLS = Counter("firewatch_llm_calls", "LLM requests, by outcome (ok, failed).", ["outcome"], registry=REGISTRY)
LLM_TOKENS = Counter("firewatch_llm_tokens", "LLM tokens used, by kind (prompt, completion).", ["kind"],
                     registry=REGISTRY)
PAGES = Counter("firewatch_pages", "Page events: opened, escalated, acknowledged, resolved.", ["event"],
                registry=REGISTRY)
NOTIFICATIONS = Counter("firewatch_notifications", "Notification attempts, by method (slack, sms, voice, push, "
                        "email) and result (sent, failed).", ["method", "result"], registry=REGISTRY)
ALERTS = Counter("firewatch_alerts_received", "Alert notifications received, by source and status.",
                 ["source", "status"], registry=REGISTRY)
JOBS = Counter("firewatch_scheduler_jobs", "Scheduler jobs run, by job and outcome.", ["job", "outcome"],
               registry=REGISTRY)
LEADER = Gauge("firewatch_scheduler_leader", "1 while this process holds the scheduler lease, else 0.",
               registry=REGISTRY)


def record_notification(method: str, result: str) -> None:
    """Count one notification attempt (`result` is "sent" or "failed")."""
    NOTIFICATIONS.labels(method=method, result=result).inc()


def record_page(event: str) -> None:
    """Count one page event ("opened", "escalated", "acknowledged", "resolved")."""
    PAGES.labels(event=event).inc()


def render_metrics() -> tuple[bytes, str]:
    """The text exposition of every Firewatch series and its content type, for `GET /metrics`."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def job_label(job_id: str) -> str:
    """A bounded label for a scheduler job id: `page:12:timeout` -> `page:timeout`, `handoff:web` -> `handoff`."""
    parts = job_id.split(":")
    if parts[0] in ("page", "firewatch"):
        return ":".join(p for p in parts if not p.isdigit())
    return parts[0]
