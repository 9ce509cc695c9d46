"""Metric evidence for triage/RCA: range queries around the incident start, anomalies found without an LLM, and
the re-check that runs a cited query again before a claim built on it is shown."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime, timezone

from bot.assist.domain import EvidenceItem
from bot.context import AppContext
from bot.telemetry import store
from bot.telemetry.domain.anomaly import Finding, find_anomalies, still_holds
from bot.telemetry.prometheus import PrometheusClient, PrometheusError

log = logging.getLogger(__name__)

MAX_FINDINGS = 5
_SERVICE_LABELS = ("service", "app", "application", "component", "job")


def client(ctx: AppContext) -> PrometheusClient | None:
    config = ctx.config.evidence.prometheus
    return PrometheusClient(config) if config is not None else None


def affected_queries(ctx: AppContext, scope: store.IncidentScope) -> list[str]:
    """Catalog queries of the services the incident names (in its text or its alerts' service labels)."""
    named = {labels[k] for labels in scope.alert_labels for k in _SERVICE_LABELS if labels.get(k)}
    text = scope.text.lower()
    out: list[str] = []
    for svc in ctx.config.services:
        hit = svc.name in named or re.search(rf"(?<![\w-]){re.escape(svc.name.lower())}(?![\w-])", text)
        if hit:
            out += [q for q in svc.queries if q not in out]
    return out


def _item(finding: Finding) -> EvidenceItem:
    at = datetime.fromtimestamp(finding.changed_at, timezone.utc)
    series = ", ".join(f'{k}="{v}"' for k, v in sorted(finding.labels.items())) or "(no labels)"
    text = (f"Metric `{finding.query}` {{{series}}} moved from {finding.baseline:.4g} to {finding.after:.4g} "
            f"({finding.surprise:.0f} robust deviations) at {at.isoformat(timespec='seconds')}")
    labels = {"query": finding.query, "series": json.dumps(finding.labels, sort_keys=True),
              "baseline": repr(finding.baseline), "after": repr(finding.after)}
    return EvidenceItem("E1", "metric", text, time=at, labels=labels)


def findings(ctx: AppContext, incident_id: int, *, now: float | None = None) -> list[Finding]:
    """The top anomalies around the incident's start over the affected services' queries (none if unconfigured)."""
    prom = client(ctx)
    scope = store.incident_scope(ctx, incident_id)
    if prom is None or scope is None:
        return []
    cfg = prom.config
    start = scope.started_at.timestamp()
    begin, end = start - cfg.lookback_seconds, min(now or time.time(), start + cfg.lookahead_seconds)
    series = []
    try:
        for query in affected_queries(ctx, scope):
            try:
                series += prom.query_range(query, begin, end)
            except PrometheusError as exc:  # one bad query must not hide the others
                log.warning("metric evidence for incident %s: %s", incident_id, exc)
    finally:
        prom.close()
    return find_anomalies(series, start, baseline_until=start - cfg.lookback_seconds / 2, limit=MAX_FINDINGS)


def metric_evidence(ctx: AppContext, incident_id: int) -> list[EvidenceItem]:
    """Evidence source for bot.assist: one item per finding, best first."""
    return [_item(f) for f in findings(ctx, incident_id)]


def check_metric(ctx: AppContext, item: EvidenceItem) -> bool:
    """Whether the cited query still shows the effect now; unanswerable counts as not holding (withheld)."""
    prom = client(ctx)
    if prom is None or "query" not in item.labels:
        return False
    wanted = json.loads(item.labels.get("series") or "{}")
    try:
        rows = prom.query(item.labels["query"])
    except PrometheusError as exc:
        log.warning("re-checking %s: %s", item.id, exc)
        return False
    finally:
        prom.close()
    current = next((v for labels, v in rows if labels == wanted), None)
    if current is None:
        return False
    return still_holds(float(item.labels["baseline"]), float(item.labels["after"]), current)
