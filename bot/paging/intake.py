"""Alert intake: Alertmanager and Grafana webhooks → stored alerts → pages, incidents and resolutions.

Every alert is stored first (its `dedup_key` unique), so a re-sent firing alert is a no-op and a crash between
storing and paging is finished by the start-up sweep (`process_pending`). Processing is serialised within the
process so that two deliveries of one group cannot open two incidents.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.context import AppContext
from bot.paging import flows, messages, store
from bot.paging.domain.alerts import Alert, AlertGroup, dedup_key, group_identity, parse_webhook
from bot.paging.messages import PageContent
from bot.paging.domain.routing import route_alert, severity_for
from bot.safety import neutralize_mentions
from storage.models import AlertGroupIncident, AlertRecord
from storage.types import utcnow

log = logging.getLogger(__name__)
_processing = threading.Lock()


def check_token(ctx: AppContext, authorization: str | None) -> str | None:
    """None when the bearer token matches (constant-time); otherwise why not, for the 401 body."""
    expected = os.environ.get(ctx.config.webhooks.token_env)
    if not expected:
        return f"webhooks are disabled: set {ctx.config.webhooks.token_env}"
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        return "missing or wrong bearer token"
    return None


def receive(ctx: AppContext, body: bytes, source: str) -> dict[str, Any]:
    """Validate (PayloadError → 400) and store the alerts; returns counts. Paging happens in `process_pending`."""
    group = parse_webhook(body, source=source, max_alerts=ctx.config.webhooks.max_alerts)
    identity = group_identity(group)
    stored, duplicates = 0, 0
    for alert in group.alerts:
        row = AlertRecord(dedup_key=dedup_key(alert), fingerprint=alert.fingerprint, status=alert.status,
                          source=alert.source, name=alert.name[:300], group_identity=identity[:500],
                          labels=dict(alert.labels), annotations=dict(alert.annotations), starts_at=alert.starts_at,
                          payload=_alert_payload(alert, group))
        try:
            with ctx.session() as s:
                s.add(row)
            stored += 1
        except IntegrityError:
            duplicates += 1
    return {"received": len(group.alerts), "new": stored, "duplicates": duplicates}


def _alert_payload(alert: Alert, group: AlertGroup) -> dict[str, Any]:
    """What processing needs later, as JSON (the alert re-parsed from its own webhook shape)."""
    return {"source": alert.source, "group_title": group.title, "receiver": group.receiver,
            "alert": {"status": alert.status, "labels": dict(alert.labels), "annotations": dict(alert.annotations),
                      "startsAt": alert.starts_at.isoformat() if alert.starts_at else None,
                      "endsAt": alert.ends_at.isoformat() if alert.ends_at else None,
                      "generatorURL": alert.generator_url or "", "fingerprint": alert.fingerprint,
                      "dashboardURL": alert.dashboard_url or "", "panelURL": alert.panel_url or "",
                      "silenceURL": alert.silence_url or "", "valueString": alert.value_string or ""}}


def _rebuild(row: AlertRecord) -> tuple[Alert, str]:
    payload = row.payload
    body = {"version": "4", "status": payload["alert"]["status"], "receiver": payload.get("receiver") or "",
            "groupKey": row.group_identity or "", "alerts": [payload["alert"]]}
    group = parse_webhook(body, source=payload.get("source", "alertmanager"))
    return group.alerts[0], payload.get("group_title") or group.alerts[0].title


def process_pending(ctx: AppContext) -> int:
    """Page, open incidents and resolve for every stored alert not processed yet. Returns how many."""
    done = 0
    with _processing:
        with ctx.session() as s:
            pending = list(s.exec(select(AlertRecord).where(AlertRecord.processed_at.is_(None))
                                  .order_by(col(AlertRecord.id))))
        unrouted: list[AlertRecord] = []
        for row in pending:
            try:
                if not _process_one(ctx, row):
                    unrouted.append(row)
            except Exception:  # noqa: BLE001 - one bad alert must not block the others; retried at start-up
                log.exception("alert %s could not be processed; it stays pending", row.id)
                continue
            with ctx.session() as s:
                fresh = s.get(AlertRecord, row.id)
                fresh.processed_at = utcnow()
                s.add(fresh)
            done += 1
        if unrouted:
            _report_unrouted(ctx, unrouted)
    return done


def _process_one(ctx: AppContext, row: AlertRecord) -> bool:
    """False when the alert matched no route (reported in the fallback channel)."""
    alert, group_title = _rebuild(row)
    if alert.status == "resolved":
        _resolve(ctx, row, alert)
        return True
    route = route_alert(alert, ctx.config.alert_routes)
    if route is None:
        return False
    severity = severity_for(alert, route) or ctx.config.incidents.default_severity
    with ctx.session() as s:
        if store.open_pages_for_alert(s, alert.fingerprint):
            # Still firing with a new start (flapping): the open page covers it.
            return True
    incident_id = _incident_for_group(ctx, row, group_title, severity) if route.open_incident else None
    content = PageContent.from_alert(alert, severity)
    page_id = flows.create_page(ctx, policy_name=route.policy, content=content, requester=None, source=alert.source,
                                channel_id=None, incident_id=incident_id, alert_key=alert.fingerprint)
    with ctx.session() as s:
        fresh = s.get(AlertRecord, row.id)
        fresh.route_policy, fresh.page_id, fresh.incident_id = route.policy, page_id, incident_id
        s.add(fresh)
    if incident_id is not None:
        _invite_paged(ctx, incident_id, page_id)
    return True


def _incident_for_group(ctx: AppContext, row: AlertRecord, title: str, severity: str) -> int:
    from bot.incidents import service as incident_flows
    from bot.incidents import store as incident_service

    with ctx.session() as s:
        link = s.get(AlertGroupIncident, row.group_identity)
        if link is not None:
            incident = incident_service.get(s, link.incident_id)
            incident_service.add_timeline(s, incident, "alert", f"Alert firing: {row.name}", actor=None)
            return link.incident_id
    incident, _problems = incident_flows.declare(ctx, title=f"[alert] {title}"[:150], severity=severity,
                                                 reporter_id=None, description=_describe(row), source="alert")
    with ctx.session() as s:
        s.add(AlertGroupIncident(group_identity=row.group_identity, incident_id=incident.id))
    from bot.incidents.service import run_hooks

    run_hooks(ctx, "after_declare", incident.id)
    return incident.id


def _describe(row: AlertRecord) -> str:
    ann = row.annotations or {}
    text = ann.get("description") or ann.get("summary") or ""
    labels = ", ".join(f"{k}={v}" for k, v in sorted((row.labels or {}).items()))
    return f"{text}\nLabels: {labels}".strip()


def _invite_paged(ctx: AppContext, incident_id: int, page_id: int) -> None:
    from storage.models import Incident

    with ctx.session() as s:
        incident = s.get(Incident, incident_id)
        users = sorted({n.user_id for n in store.notifications(s, page_id) if n.error is None})
    if incident and incident.channel_id and users:
        try:
            ctx.slack.conversations_invite(channel=incident.channel_id, users=",".join(users))
        except Exception as exc:  # noqa: BLE001 - already_in_channel and friends
            log.info("invite of paged on-call to incident %s: %s", incident_id, exc)


def _resolve(ctx: AppContext, row: AlertRecord, alert: Alert) -> None:
    with ctx.session() as s:
        pages = store.open_pages_for_alert(s, alert.fingerprint)
    for page in pages:
        flows.resolve(ctx, page.id, actor=None, by_alert=True)
        if page.incident_id is not None:
            from bot.incidents import store as incident_service

            with ctx.session() as s:
                incident = incident_service.get(s, page.incident_id)
                incident_service.add_timeline(s, incident, "alert", f"Alert resolved: {row.name}", actor=None)
            if incident.channel_id:
                flows._safe_call(ctx.slack.chat_postMessage, channel=incident.channel_id,
                                 text=f":white_check_mark: Alert resolved: {neutralize_mentions(alert.title)}")


def _report_unrouted(ctx: AppContext, rows: list[AlertRecord]) -> None:
    channel = ctx.config.webhooks.fallback_channel
    alerts = [_rebuild(r)[0] for r in rows]
    if channel is None:
        log.error("%d alert(s) matched no route and no webhooks.fallback_channel is set: %s", len(rows),
                  ", ".join(a.name for a in alerts))
        return
    group = parse_webhook({"version": "4", "status": "firing", "receiver": "", "groupKey": "unrouted",
                           "alerts": [r.payload["alert"] for r in rows]})
    flows._safe_call(ctx.slack.chat_postMessage, channel=channel, **messages.unrouted_alert_report(group))
