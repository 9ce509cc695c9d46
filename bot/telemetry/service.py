"""Metric evidence for triage/RCA: range queries around the incident start (the catalog's queries and the alerts' own
expressions), anomalies found without an LLM, and the re-check that runs a cited query again before a claim built
on it is shown; the budget lines of the pinned incident summary; the weekly SLO digest."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import weakref
from datetime import datetime, timezone

from slack_sdk.errors import SlackApiError

from bot.assist.domain import EvidenceItem
from bot.context import AppContext
from bot.core.slack_errors import slack_error_code
from bot.telemetry import store
from bot.telemetry.domain import digest
from bot.telemetry.domain.anomaly import Finding, find_anomalies, still_holds
from bot.telemetry.domain.config import SloConfig, SlosDigestConfig
from bot.telemetry.domain.generator import alert_expressions
from bot.telemetry.prometheus import PrometheusClient, PrometheusError
from bot.telemetry.slo import BURN_WINDOWS, SloReport, slo_report

log = logging.getLogger(__name__)

MAX_FINDINGS = 5
MAX_ALERT_EXPRESSIONS = 5  # generatorURL expressions run per incident, on top of the catalog's queries
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
    """Catalog queries of the affected services, then each alert's own expression from its generatorURL (only
    from the configured Prometheus's host unless `trust_generator_urls`); the URL itself is never requested."""
    wanted = set(affected_services(ctx, scope))
    out: list[str] = []
    for svc in ctx.config.services:
        if svc.name in wanted:
            out += [q for q in svc.queries if q not in out]
    config = ctx.config.evidence.prometheus
    if config is not None:
        found = alert_expressions(scope.generator_urls, config.url, trust_any_host=config.trust_generator_urls,
                                  limit=MAX_ALERT_EXPRESSIONS)
        out += [q for q in found if q not in out]
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


# -- budget impact in the incident summary ---------------------------------------------------------------------------

BUDGET_CACHE_SECONDS = 60.0
SUMMARY_TIMEOUT_SECONDS = 3.0
_clock = time.monotonic  # the cache's clock (a test moves it)
_budget_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per app (its engine): key -> (until, report)
_cache_lock = threading.Lock()


def _cached_report(ctx: AppContext, prom: PrometheusClient, slo: SloConfig) -> SloReport:
    """The SLO's report, measured at most once a minute per app (a failure is cached too: an outage is not retried
    on every summary refresh)."""
    key = (ctx.config.evidence.prometheus.url, slo.model_dump_json())
    with _cache_lock:
        cache = _budget_cache.setdefault(ctx.engine, {})
        hit = cache.get(key)
    if hit is not None and hit[0] > _clock():
        return hit[1]
    report = slo_report(prom, slo)
    with _cache_lock:
        cache[key] = (_clock() + BUDGET_CACHE_SECONDS, report)
    return report


def _summary_reports(ctx: AppContext, slos: list[SloConfig]) -> list[SloReport]:
    """The SLOs' reports with a short timeout, stopping at the first sign Prometheus is down: the summary is
    posted on the declare path and must not wait on an outage."""
    config = ctx.config.evidence.prometheus
    prom = PrometheusClient(config.model_copy(update={
        "timeout_seconds": min(config.timeout_seconds, SUMMARY_TIMEOUT_SECONDS)}))
    reports: list[SloReport] = []
    try:
        for slo in slos:
            reports.append(_cached_report(ctx, prom, slo))
            if not reports[-1].reachable:
                break
    finally:
        prom.close()
    return reports


def budget_lines_for(ctx: AppContext, incident_id: int) -> list[str]:
    """One line per SLO of the incident's services for its pinned summary; empty without Prometheus or SLOs,
    and never raising (the summary goes out whatever Prometheus does)."""
    try:
        slos = ctx.config.slos
        if ctx.config.evidence.prometheus is None or not slos:
            return []
        scope = store.incident_scope(ctx, incident_id)
        if scope is None:
            return []
        services = set(affected_services(ctx, scope))
        wanted = [s for s in slos if s.service in services and s.good and s.total]
        if not wanted:
            return []
        reports = _summary_reports(ctx, wanted)
    except Exception:  # noqa: BLE001 - budget impact is decoration; the summary must never fail because of it
        log.exception("budget lines for incident %s failed", incident_id)
        return []
    for r in reports:
        if r.error:
            log.warning("SLO %s for the summary of incident %s: %s", r.slo.name, incident_id, r.error)
    return [digest.summary_line(r.slo.name, r.budget_remaining, r.burn.rates["1h"])
            for r in reports if r.burn is not None and r.budget_remaining is not None]


# -- weekly SLO digest -------------------------------------------------------------------------------------------------

DIGEST_JOB_ID = "telemetry:slo-digest"
DIGEST_JOB_REFERENCE = "bot.telemetry.jobs:weekly_slo_digest"


def digest_config(ctx: AppContext) -> SlosDigestConfig | None:
    """`slos_digest` when enabled (and there is something to report from)."""
    cfg = getattr(ctx.config, "slos_digest", None)
    if cfg is None or not cfg.enabled or not ctx.config.slos or ctx.config.evidence.prometheus is None:
        return None
    return cfg


def schedule_digest(ctx: AppContext, now: datetime | None = None) -> datetime | None:
    """(Re)schedule the digest on the scheduler leader for the next Monday 09:00 UTC; returns when (None: off)."""
    scheduler = ctx.services.scheduler
    if digest_config(ctx) is None or scheduler is None or not getattr(scheduler, "started", False):
        return None
    when = digest.next_digest_at(now or datetime.now(timezone.utc))
    scheduler.at(DIGEST_JOB_ID, when, DIGEST_JOB_REFERENCE, (), grace=None)
    return when


def post_digest(ctx: AppContext) -> str | None:
    """Measure every SLO now and post the digest; returns the message ts (None: digest off, or Slack refused)."""
    from bot.telemetry import messages

    cfg = digest_config(ctx)
    if cfg is None:
        return None
    prom = client(ctx)
    reports: list[SloReport] = []
    try:
        for slo in ctx.config.slos:  # once Prometheus does not answer, the rest are not tried (each would wait)
            down = reports and not reports[-1].reachable
            reports.append(SloReport(slo, None, None, reports[-1].error, reachable=False) if down
                           else slo_report(prom, slo))
    finally:
        prom.close()
    lines = [digest.digest_line(r.slo.name, r.slo.service, r.slo.objective, r.slo.window_days, r.budget_remaining,
                                r.burn.rates if r.burn else None, r.burn.status if r.burn else None, r.error)
             for r in reports]
    burning = sum(1 for r in reports if r.burn is not None and r.burn.paging)
    try:
        resp = ctx.slack.chat_postMessage(channel=cfg.channel, text=messages.digest_text(len(reports), burning),
                                          blocks=messages.digest_blocks(lines), unfurl_links=False)
    except SlackApiError as exc:
        log.warning("weekly SLO digest not posted to %s: %s; invite the bot to the channel or fix slos_digest.channel",
                    cfg.channel, slack_error_code(exc))
        return None
    return resp.get("ts")


def weekly_slo_digest(ctx: AppContext) -> None:
    """The job: post the digest, then schedule next Monday's (even if this one failed)."""
    try:
        post_digest(ctx)
    finally:
        schedule_digest(ctx)
