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
from bot.telemetry.slo import BURN_WINDOWS, SloReport, slo_report

log = logging.getLogger(__name__)

MAX_FINDINGS = 5
_SERVICE_LABELS = ("service", "app", "application", "component", "job")


def client(ctx: AppContext) -> PrometheusClient | None:
    config = ctx.config.evidence.prometheus
    return PrometheusClient(config) if config is not None else None


def affected_services(ctx: AppContext, scope: store.IncidentScope) -> list[str]:
    """Catalog services the incident names (in its text or its alerts' service labels)."""
    named = {labels[k] for labels in scope.alert_labels for k in _SERVICE_LABELS if labels.get(k)}
    text = scope.text.lower()
    return [svc.name for svc in ctx.config.services
            if svc.name in named or re.search(rf"(?<![\w-]){re.escape(svc.name.lower())}(?![\w-])", text)]


def affected_queries(ctx: AppContext, scope: store.IncidentScope) -> list[str]:
    """Catalog queries of the affected services."""
    wanted = set(affected_services(ctx, scope))
    out: list[str] = []
    for svc in ctx.config.services:
        if svc.name in wanted:
            out += [q for q in svc.queries if q not in out]
    return out

def finding_evidence(finding: Finding) -> EvidenceItem:
    """The evidence item (kind "metric") for one finding; its labels let the re-check run the query again."""
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
    return [finding_evidence(f) for f in findings(ctx, incident_id)]


def budget_evidence(report: SloReport) -> EvidenceItem:
    """One SLO's burn as evidence (kind "metric"): the labels feed the severity rule in bot.assist.domain.budget."""
    slo, rates = report.slo, report.burn.rates
    window = f"{slo.window_days}-day"
    text = (f"SLO `{slo.name}` ({slo.service}, objective {slo.objective:.3%}): error budget burning "
            + ", ".join(f"{rates[w]:.1f}x over {w}" for w in BURN_WINDOWS)
            + f"; {report.budget_remaining:.1%} of the {window} budget left ({report.burn.status})")
    labels = {"slo": slo.name, "service": slo.service or "", "window": window, "status": report.burn.status,
              "budget_remaining": repr(report.budget_remaining), **{f"burn_{w}": repr(rates[w]) for w in BURN_WINDOWS}}
    return EvidenceItem("E1", "metric", text, labels=labels)


def slo_evidence(ctx: AppContext, incident_id: int) -> list[EvidenceItem]:
    """Evidence source: the SLOs of the affected services spending budget faster than sustainable (1 h burn ≥ 1)."""
    prom = client(ctx)
    scope = store.incident_scope(ctx, incident_id)
    if prom is None or scope is None or not ctx.config.slos:
        return []
    services = set(affected_services(ctx, scope))
    try:
        reports = [slo_report(prom, s) for s in ctx.config.slos if s.service in services and s.good and s.total]
    finally:
        prom.close()
    for r in reports:
        if r.error:
            log.warning("SLO %s for incident %s: %s", r.slo.name, incident_id, r.error)
    return [budget_evidence(r) for r in reports if r.burn is not None and r.burn.rates["1h"] >= 1.0]


def _check_slo(ctx: AppContext, item: EvidenceItem) -> bool:
    """An SLO item holds while its budget still burns at least half as fast over 5 m as when it was cited."""
    slo = next((s for s in ctx.config.slos if s.name == item.labels["slo"]), None)
    prom = client(ctx)
    if slo is None or prom is None:
        return False
    try:
        report = slo_report(prom, slo)
    finally:
        prom.close()
    return report.burn is not None and report.burn.rates["5m"] >= float(item.labels["burn_5m"]) / 2


def check_metric(ctx: AppContext, item: EvidenceItem) -> bool:
    """Whether the cited query still shows the effect now; unanswerable counts as not holding (withheld)."""
    if "slo" in item.labels:
        return _check_slo(ctx, item)
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


def post_sparkline(ctx: AppContext, incident_id: int) -> str | None:
    """Upload a sparkline PNG of the top findings to the incident channel; returns the file id (None: nothing
    moved, or no channel). Slack's current upload: files.getUploadURLExternal, POST, files.completeUploadExternal."""
    from bot.telemetry import sparkline

    channel = store.incident_channel(ctx, incident_id)
    scope = store.incident_scope(ctx, incident_id)
    if channel is None or scope is None:
        return None
    found = findings(ctx, incident_id)
    if not found:
        return None
    png = sparkline.render(found, scope.started_at.timestamp())
    names = "; ".join(sparkline.title_of(f, 160) for f in found[: sparkline.MAX_ROWS])
    resp = ctx.slack.files_upload_v2(
        channel=channel, content=png, filename=f"firewatch-findings-{incident_id}.png",
        title="What moved before the incident started", alt_txt=f"Sparklines of the top metric findings: {names}"[:1000],
        initial_comment=":chart_with_upwards_trend: What moved around the start (dashed line), measured in "
                        "Prometheus; red dot = change point.", request_file_info=False)
    return (resp.get("files") or [{}])[0].get("id") or resp.get("file", {}).get("id")


def after_declare(ctx: AppContext, incident_id: int) -> None:
    """The `after_declare` hook: the sparkline upload on a background thread (best effort, never blocks)."""
    if ctx.config.evidence.prometheus is None:
        return
    ctx.background.start(f"telemetry-sparkline-{incident_id}", post_sparkline, ctx, incident_id,
                         failure=f"sparkline for incident {incident_id} failed")
