"""Evidence for triage and RCA, read from storage and numbered by the bot (E1, E2, …).

What goes in, in this order: the reporter's description, the alerts linked to the incident (labels and
annotations, including `runbook_url`), change events to the affected services in the 6 hours before the incident,
similar past incidents (BM25 over past incidents and their postmortems), and the latest timeline events (last, as
they grow during the incident: the ids of everything before them stay the same from one suggestion to the next).
The title, description, severity and status also go to the model as the incident itself.

Nothing here talks to Slack or to the model; redaction happens in the domain (`bot.assist.domain.context.prepare`) for what
leaves the process, and `label()` redacts and neutralises the short labels shown in Slack next to evidence ids.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlmodel import Session, col, or_, select

from bot.context import AppContext
from bot.assist.domain import (
    ChangeEvent,
    EvidenceItem,
    Incident as LLMIncident,
    PastDoc,
    RotationOption,
    SeverityOption,
    changes_as_evidence,
    display_text,
    number_evidence,
    redact,
    select_changes,
    similar,
    similar_as_evidence,
)
from bot.assist.domain.changes import DEFAULT_WINDOW_HOURS
from bot.assist.domain.similar import tokenize
from storage.models import (
    AlertGroupIncident,
    AlertRecord,
    ChangeEventRecord,
    Incident,
    PostmortemRecord,
    TimelineEvent,
)

log = logging.getLogger(__name__)

MAX_ALERTS = 10
MAX_TIMELINE = 15
MAX_CHANGES = 10
MAX_SIMILAR = 3
MAX_PAST_INCIDENTS = 300  # the BM25 corpus: the most recent past incidents
SIMILAR_MIN_SCORE = 0.3
SIMILAR_RELATIVE_CUTOFF = 0.3
SIMILAR_MIN_SHARED_TERMS = 2  # one shared common word ("api") is not similarity
_SERVICE_LABELS = ("service", "app", "application", "component", "job")
_TEXT_ANNOTATIONS = ("summary", "title", "message", "description")
_HTTP_URL = re.compile(r"^https?://[^\s<>|\"']+$")


def is_http_url(url: str | None) -> bool:
    return bool(url) and bool(_HTTP_URL.match(url or ""))


def label(text: str, limit: int = 120) -> str:
    """A short, Slack-safe label for an evidence item: secrets and user ids redacted, mentions neutralised."""
    return display_text(redact(text or "").text, {}, None, limit)


@dataclass
class EvidenceBundle:
    incident_id: int
    incident: LLMIncident
    items: list[EvidenceItem]
    # Parallel to `items`: what each id points at, for display and for the stored payload (JSON-ready).
    refs: list[dict[str, Any]]
    similar: list[dict[str, Any]] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    channel_id: str | None = None
    source: str = "slack"  # how the incident was opened: slack | alert

    def ref(self, evidence_id: str) -> dict[str, Any] | None:
        return next((r for r in self.refs if r["id"] == evidence_id), None)


def severity_options(ctx: AppContext) -> list[SeverityOption]:
    return [SeverityOption(s.name, s.description) for s in ctx.config.incidents.severities]


def rotation_options(ctx: AppContext) -> list[RotationOption]:
    return [RotationOption(r.name) for r in ctx.config.rotations]


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


# -- alerts ------------------------------------------------------------------------------------------------------

def _alerts(s: Session, incident_id: int) -> list[AlertRecord]:
    """Alerts linked to the incident, directly or through their alert group (the group link exists as soon as an
    alert opens the incident, before the alert row itself is updated)."""
    groups = select(AlertGroupIncident.group_identity).where(AlertGroupIncident.incident_id == incident_id)
    rows = s.exec(select(AlertRecord).where(or_(AlertRecord.incident_id == incident_id,
                                                col(AlertRecord.group_identity).in_(groups)))
                  .order_by(col(AlertRecord.id)).limit(MAX_ALERTS * 3)).all()
    # Re-sends of one alert (same fingerprint, new status/start) collapse to the latest one.
    latest: dict[str, AlertRecord] = {}
    for row in rows:
        latest[row.fingerprint] = row
    return sorted(latest.values(), key=lambda r: r.id)[:MAX_ALERTS]


def _alert_item(row: AlertRecord) -> tuple[EvidenceItem, dict[str, Any]]:
    ann = {k: str(v) for k, v in (row.annotations or {}).items() if v not in (None, "")}
    lines = [f"Alert {row.status}: {row.name}"]
    for key in _TEXT_ANNOTATIONS:
        if ann.get(key):
            lines.append(f"{key}: {ann[key]}")
    for key, value in sorted(ann.items()):
        if key not in _TEXT_ANNOTATIONS and key not in ("runbook_url", "runbook"):
            lines.append(f"{key}: {value[:300]}")
    labels = {str(k): str(v)[:200] for k, v in (row.labels or {}).items()}
    runbook = ann.get("runbook_url") or ann.get("runbook")
    if runbook:
        labels["runbook_url"] = runbook
    generator = ((row.payload or {}).get("alert") or {}).get("generatorURL") or None
    url = runbook if is_http_url(runbook) else generator if is_http_url(generator) else None
    item = EvidenceItem("E1", "alert", "\n".join(lines), url=url, time=_aware(row.starts_at or row.received_at),
                        labels=labels)
    return item, {"kind": "alert", "ref": f"alert:{row.id}", "label": label(f"alert {row.name}"), "url": url}


def _services_from_alerts(rows: list[AlertRecord]) -> list[str]:
    out: list[str] = []
    for row in rows:
        for key in _SERVICE_LABELS:
            value = str((row.labels or {}).get(key) or "").strip()
            if value and value not in out:
                out.append(value)
    return out


# -- changes -----------------------------------------------------------------------------------------------------

def change_event(row: ChangeEventRecord) -> ChangeEvent:
    return ChangeEvent(service=row.service, version=row.version or "", author=row.author or "",
                       description=row.description or "", timestamp=_aware(row.timestamp), url=row.url)


def _changes(s: Session, start: datetime, services: list[str], text: str) -> tuple[list[ChangeEventRecord], list[str]]:
    since = start - timedelta(hours=DEFAULT_WINDOW_HOURS)
    rows = s.exec(select(ChangeEventRecord).where(ChangeEventRecord.timestamp >= since,
                                                  ChangeEventRecord.timestamp <= start)
                  .order_by(col(ChangeEventRecord.timestamp).desc()).limit(500)).all()
    wanted = list(services)
    lowered = text.lower()
    for row in rows:  # a service named in the incident or its alerts counts as affected
        name = row.service.strip()
        if name and name not in wanted and re.search(rf"(?<![\w-]){re.escape(name.lower())}(?![\w-])", lowered):
            wanted.append(name)
    events = [(r, change_event(r)) for r in rows]
    by_event = {id(e): r for r, e in events}
    picked = select_changes([e for _, e in events], wanted or None, start, DEFAULT_WINDOW_HOURS, MAX_CHANGES)
    return [by_event[id(e)] for e in picked], wanted


# -- similar past incidents ----------------------------------------------------------------------------------------

def _similar(ctx: AppContext, s: Session, incident: Incident, query: str) -> list[tuple[Any, Incident, PostmortemRecord | None]]:
    # Private incidents are never context for another incident (their title and timeline would reach its channel
    # and the LLM prompt).
    past = s.exec(select(Incident).where(Incident.id != incident.id, Incident.number < incident.number,
                                         col(Incident.private).is_(False))
                  .order_by(col(Incident.number).desc()).limit(MAX_PAST_INCIDENTS)).all()
    if not past:
        return []
    ids = [p.id for p in past]
    timeline: dict[int, list[str]] = {}
    for ev in s.exec(select(TimelineEvent).where(col(TimelineEvent.incident_id).in_(ids))
                     .order_by(col(TimelineEvent.at))):
        timeline.setdefault(ev.incident_id, []).append(ev.text or "")
    postmortems = {pm.incident_id: pm for pm in s.exec(select(PostmortemRecord)
                                                        .where(col(PostmortemRecord.incident_id).in_(ids)))}
    prefix = ctx.prefix.upper()
    docs, by_doc = [], {}
    for p in past:
        pm = postmortems.get(p.id)
        text = "\n".join(filter(None, [p.description, p.resolution_summary and f"Resolution: {p.resolution_summary}",
                                       *timeline.get(p.id, [])[-30:], pm.markdown[:6000] if pm else None]))
        url = pm.pr_url if pm and is_http_url(pm.pr_url) else None
        doc = PastDoc(id=f"{prefix}-{p.number}", title=p.title, text=text, url=url,
                      labels={"severity": p.severity, "status": p.status}, private=bool(p.private))
        docs.append(doc)
        by_doc[doc.id] = (p, pm)
    query_terms = set(tokenize(query))
    out = []
    for m in similar(query, docs, k=MAX_SIMILAR * 2, min_score=SIMILAR_MIN_SCORE,
                     relative_cutoff=SIMILAR_RELATIVE_CUTOFF):
        shared = query_terms & set(tokenize(m.doc.title + "\n" + m.doc.text))
        if len(shared) >= SIMILAR_MIN_SHARED_TERMS:
            p, pm = by_doc[m.doc.id]
            out.append((m, p, pm))
    return out[:MAX_SIMILAR]


# -- other features' sources (telemetry) ----------------------------------------------------------------------------

def _extra_evidence(ctx: AppContext, incident_id: int) -> list[tuple[EvidenceItem, dict[str, Any]]]:
    """Items from `ctx.services.evidence_sources`; a failing source is logged and skipped, never fatal."""
    out: list[tuple[EvidenceItem, dict[str, Any]]] = []
    for source in ctx.services.evidence_sources:
        try:
            items = list(source(ctx, incident_id))
        except Exception:  # noqa: BLE001 - evidence is best effort; the suggestion still goes out without it
            log.exception("evidence source %s failed for incident %s", getattr(source, "__name__", source), incident_id)
            continue
        for item in items:
            url = item.url if is_http_url(item.url) else None
            ref = item.labels.get("query") or item.text[:80]
            out.append((item, {"kind": item.kind, "ref": f"{item.kind}:{ref}", "label": label(f"{item.kind} {ref}"),
                               "url": url}))
    return out


# -- all together ------------------------------------------------------------------------------------------------

def gather(ctx: AppContext, incident_id: int) -> EvidenceBundle | None:
    """Everything the model (or the heuristic) gets to see about the incident; None if it does not exist."""
    with ctx.session() as s:
        incident = s.get(Incident, incident_id)
        if incident is None:
            return None
        start = _aware(incident.created_at)
        entries: list[tuple[EvidenceItem, dict[str, Any]]] = []
        if incident.description:
            entries.append((EvidenceItem("E1", "message", f"Incident description from the reporter:\n{incident.description}",
                                         time=start),
                            {"kind": "message", "ref": f"incident:{incident.id}", "label": "incident description",
                             "url": None}))
        alerts = _alerts(s, incident.id)
        entries += [_alert_item(row) for row in alerts]
        alert_text = "\n".join(item.text for item, ref in entries if ref["kind"] == "alert")
        incident_text = f"{incident.title}\n{incident.description}\n{alert_text}"
        change_rows, services = _changes(s, start, _services_from_alerts(alerts), incident_text)
        for row, item in zip(change_rows, changes_as_evidence([change_event(r) for r in change_rows])):
            url = item.url if is_http_url(item.url) else None
            head = f"change {row.service}" + (f" {row.version}" if row.version else "")
            entries.append((item, {"kind": "change", "ref": f"change:{row.id}", "label": label(head), "url": url}))
        matches = _similar(ctx, s, incident, incident_text)
        similar_rows = []
        for (m, p, pm), item in zip(matches, similar_as_evidence([m for m, _, _ in matches])):
            url = m.doc.url
            entries.append((item, {"kind": "similar_incident", "ref": f"incident:{p.id}",
                                   "label": label(f"past incident {m.doc.id}: {p.title}"), "url": url,
                                   "channel_id": p.channel_id}))
            similar_rows.append({"incident_id": p.id, "label": m.doc.id, "title": label(p.title, 150),
                                 "channel_id": p.channel_id, "postmortem_url": url, "score": m.score,
                                 "status": p.status})
        timeline_at = len(entries)  # extra sources' items go before the timeline, whose length grows
        events = s.exec(select(TimelineEvent).where(TimelineEvent.incident_id == incident.id)
                        .order_by(col(TimelineEvent.at).desc(), col(TimelineEvent.id).desc())
                        .limit(MAX_TIMELINE)).all()
        for ev in reversed(events):
            url = ev.permalink if is_http_url(ev.permalink) else None
            entries.append((EvidenceItem("E1", "timeline", f"[{ev.kind}] {ev.text}", url=url, time=_aware(ev.at)),
                            {"kind": "timeline", "ref": f"timeline:{ev.id}", "label": f"timeline entry ({label(ev.kind, 32)})",
                             "url": url}))
        llm_incident = LLMIncident(title=incident.title, description=incident.description, severity=incident.severity,
                                   status=incident.status, started_at=start)
        channel_id, source = incident.channel_id, incident.source
    # Outside the session: sources may query external systems (Prometheus) for a while.
    entries[timeline_at:timeline_at] = _extra_evidence(ctx, incident_id)
    items = number_evidence([item for item, _ in entries])
    refs = [{"id": item.id, **ref} for item, (_, ref) in zip(items, entries)]
    for row in similar_rows:
        row["evidence_id"] = next((r["id"] for r in refs if r["kind"] == "similar_incident"
                                   and r["ref"] == f"incident:{row['incident_id']}"), None)
    return EvidenceBundle(incident_id=incident_id, incident=llm_incident, items=items, refs=refs,
                          similar=similar_rows, services=services, channel_id=channel_id, source=source)
