"""The telemetry feature's SQL: what an incident says about where to look (its start, text, alert labels)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlmodel import col, or_, select

from bot.context import AppContext
from storage.models import AlertGroupIncident, AlertRecord, Incident


@dataclass(frozen=True)
class IncidentScope:
    started_at: datetime
    text: str
    alert_labels: list[dict[str, str]]
    generator_urls: list[str] = field(default_factory=list)  # each alert's Alertmanager generatorURL, in order


def incident_scope(ctx: AppContext, incident_id: int) -> IncidentScope | None:
    with ctx.session() as s:
        incident = s.get(Incident, incident_id)
        if incident is None:
            return None
        groups = select(AlertGroupIncident.group_identity).where(AlertGroupIncident.incident_id == incident_id)
        alerts = s.exec(select(AlertRecord).where(or_(AlertRecord.incident_id == incident_id,
                                                      col(AlertRecord.group_identity).in_(groups)))
                        .order_by(col(AlertRecord.id)).limit(50)).all()
        start = incident.created_at
        start = start if start.tzinfo else start.replace(tzinfo=timezone.utc)
        return IncidentScope(start, f"{incident.title}\n{incident.description or ''}",
                             [{str(k): str(v) for k, v in (a.labels or {}).items()} for a in alerts],
                             [url for a in alerts if (url := _generator_url(a))])


def _generator_url(row: AlertRecord) -> str:
    alert = (row.payload or {}).get("alert") or {}
    return str(alert.get("generatorURL") or "") if isinstance(alert, dict) else ""


def incident_channel(ctx: AppContext, incident_id: int) -> str | None:
    with ctx.session() as s:
        incident = s.get(Incident, incident_id)
        return incident.channel_id if incident is not None else None
