"""Alert intake: Alertmanager and Grafana webhooks → stored alerts → pages, incidents and resolutions.

Every alert is stored first (its `dedup_key` unique), so a re-sent firing alert is a no-op and a crash between
storing and paging is finished by the start-up sweep (`process_pending`). Each alert group is processed on its
own lane, in order (two deliveries of one group cannot open two pages or two incidents), and groups in parallel;
within a group the page's DM goes first and the incident's channel set-up after it.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections import deque
from contextlib import contextmanager
from typing import Any, Iterator

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.context import AppContext
from bot.core.metrics import ALERTS
from bot.paging import flows, messages, store
from bot.paging.domain.alerts import Alert, AlertGroup, dedup_key, group_identity, parse_webhook
from bot.paging.messages import PageContent
from bot.paging.domain.routing import policy_for_route, route_for, service_title, severity_for
from storage.models import AlertGroupIncident, AlertRecord, PageRecord
from storage.types import utcnow

log = logging.getLogger(__name__)


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
    for alert in group.alerts:
        ALERTS.labels(source=alert.source, status=alert.status).inc()
    rows = [AlertRecord(dedup_key=dedup_key(alert), fingerprint=alert.fingerprint, status=alert.status,
                        source=alert.source, name=alert.name[:300], group_identity=identity[:500],
                        labels=dict(alert.labels), annotations=dict(alert.annotations), starts_at=alert.starts_at,
                        payload=_alert_payload(alert, group)) for alert in group.alerts]
    try:
        # One transaction for the whole delivery, so a sweep running meanwhile sees the group whole (one page).
        with ctx.session() as s:
            s.add_all(rows)
        stored, duplicates = len(rows), 0
    except IntegrityError:  # some were already stored (a repeat notification): store the new ones one by one
        stored, duplicates = 0, 0
        for row in rows:
            try:
                with ctx.session() as s:
                    s.add(_fresh_copy(row))
                stored += 1
            except IntegrityError:
                duplicates += 1
    return {"received": len(group.alerts), "new": stored, "duplicates": duplicates}


def _fresh_copy(row: AlertRecord) -> AlertRecord:
    """The same alert as a new, unattached row (the failed transaction left the original unusable)."""
    return AlertRecord(**{k: getattr(row, k) for k in ("dedup_key", "fingerprint", "status", "source", "name",
                                                        "group_identity", "labels", "annotations", "starts_at",
                                                        "payload")})


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


# -- processing: one lane per alert group ------------------------------------------------------------------------
# A group's batches run in order on its own thread (its "lane"), so a slow incident set-up of one group never
# holds up another group's page. Claims are per database (tests run several apps in one process).
_lanes = threading.Condition()
_in_flight: set[tuple[int, int]] = set()  # (engine, alert row id) claimed by a lane of this process
_queued: dict[tuple[int, str | None], deque] = {}  # (engine, group) -> its batches still to run; a lane per key
_lane_slots = threading.BoundedSemaphore(64)  # at most this many groups are worked on at once


# Pages go before incident set-ups: while any group's page is being sent in this process, an incident set-up
# about to start waits (at most INCIDENT_YIELD_SECONDS), so in a storm the CPU, the database and Slack serve the
# DMs first. A priority only: nothing is skipped.
_pages_now = threading.Condition()
_pages_in_progress = 0
INCIDENT_YIELD_SECONDS = 5.0


@contextmanager
def _sending_page() -> Iterator[None]:
    global _pages_in_progress
    with _pages_now:
        _pages_in_progress += 1
    try:
        yield
    finally:
        with _pages_now:
            _pages_in_progress -= 1
            _pages_now.notify_all()


def _let_pages_go_first() -> None:
    deadline = time.monotonic() + INCIDENT_YIELD_SECONDS
    with _pages_now:
        while _pages_in_progress and (left := deadline - time.monotonic()) > 0:
            _pages_now.wait(left)


class _Tally:
    """Alerts processed for one `process_pending` call (its batches may run on several lanes)."""

    def __init__(self) -> None:
        self.done = 0


def process_pending(ctx: AppContext) -> int:
    """Page, open incidents and resolve for every stored alert not processed yet: each alert group on its own
    lane, its batches (see `group_batches`) in order. Waits until every alert pending at the call is processed
    or given up on (it stays pending: the sweep retries it). Returns how many alerts this call processed."""
    with ctx.session() as s:
        pending = list(s.exec(select(AlertRecord).where(AlertRecord.processed_at.is_(None))
                              .order_by(col(AlertRecord.id))))
    engine, tally = id(ctx.engine), _Tally()
    with _lanes:
        mine = [r for r in pending if (engine, r.id) not in _in_flight]
        _in_flight.update((engine, r.id) for r in mine)
        new_lanes = []
        for batch in group_batches(mine):
            key = (engine, batch[0].group_identity)
            if key not in _queued:
                _queued[key] = deque()
                new_lanes.append(key)
            _queued[key].append((batch, tally))
    for key in new_lanes:
        _start_lane(ctx, key)
    waiting = {(engine, r.id) for r in pending}
    with _lanes:
        while waiting & _in_flight:
            _lanes.wait()
    return tally.done


def _start_lane(ctx: AppContext, key: tuple[int, str | None]) -> None:
    try:
        ctx.background.start("alert-group", _run_lane, ctx, key,
                             failure="alert group processing failed; its alerts stay pending")
    except RuntimeError:  # the app is stopping: the alerts stay pending for the next start
        with _lanes:
            for batch, _tally in _queued.pop(key, ()):
                _in_flight.difference_update((key[0], r.id) for r in batch)
            _lanes.notify_all()


def _run_lane(ctx: AppContext, key: tuple[int, str | None]) -> None:
    """Run a group's queued batches in arrival order until none is left."""
    while True:
        with _lanes:
            queued = _queued[key]
            if not queued:
                del _queued[key]
                _lanes.notify_all()
                return
            batch, tally = queued.popleft()
        try:
            with _lane_slots:
                tally.done += _process_and_mark(ctx, batch)
        finally:
            with _lanes:
                _in_flight.difference_update((key[0], r.id) for r in batch)
                _lanes.notify_all()


def _process_and_mark(ctx: AppContext, batch: list[AlertRecord]) -> int:
    """Process one batch, then mark its alerts processed (only then: a crash before leaves them pending, and the
    next run finds the group's page and finishes what is missing). Returns how many were processed."""
    try:
        unrouted = _process_batch(ctx, batch)
    except Exception:  # noqa: BLE001 - one bad group must not block the others; retried by the sweep
        log.exception("alerts %s could not be processed; they stay pending", [r.id for r in batch])
        return 0
    with ctx.session() as s:
        for row in batch:
            fresh = s.get(AlertRecord, row.id)
            fresh.processed_at = utcnow()
            s.add(fresh)
    if unrouted:
        _report_unrouted(ctx, unrouted)
    return len(batch)


def group_batches(rows: list[AlertRecord]) -> list[list[AlertRecord]]:
    """Pending alerts as runs of one group and one status, in arrival order: a storm of 50 alerts in a group is
    one page, while a group's firing, resolved, firing again stay three steps in that order."""
    batches: list[list[AlertRecord]] = []
    last_of_group: dict[str | None, list[AlertRecord]] = {}
    for row in rows:
        batch = last_of_group.get(row.group_identity)
        if batch is None or batch[0].status != row.status:
            batch = []
            batches.append(batch)
            last_of_group[row.group_identity] = batch
        batch.append(row)
    return batches


def _process_batch(ctx: AppContext, rows: list[AlertRecord]) -> list[AlertRecord]:
    """Page (or join the group's open page) for one batch, then give the page its incident if routed so; returns
    the alerts that matched no route."""
    if rows[0].status == "resolved":
        _resolve(ctx, rows)
        return []
    routed, unrouted = [], []
    for row in rows:
        alert, group_title = _rebuild(row)
        route = route_for(alert, ctx.config.alert_routes, ctx.config.services, ctx.config.escalation_policies)
        (routed if route is not None else unrouted).append((row, alert, route, group_title))
    if not routed:
        return [r[0] for r in unrouted]
    group = rows[0].group_identity or ""
    with ctx.session() as s:
        page = store.open_page_for_group(s, group)
        page_id = page.id if page is not None else None
    with _sending_page():
        if page_id is not None:
            _join_page(ctx, page_id, [r[0] for r in routed])
        else:
            page_id = _open_group_page(ctx, group, routed)
    if routed[0][2].open_incident:
        # After the DM: the incident's channel set-up (6 Slack calls, rate-limited ones among them) never delays
        # the page. A page left without its incident by a crash gets it when its alerts are processed again.
        _attach_incident(ctx, page_id, routed)
    return [r[0] for r in unrouted]


def _open_group_page(ctx: AppContext, group: str, routed: list) -> int:
    """The group's first firing alerts: one page carrying all of them, its first DM sent at once. Returns its id."""
    row, alert, route, group_title = routed[0]
    severity = severity_for(alert, route) or ctx.config.incidents.default_severity
    content = PageContent.from_alerts([r[1] for r in routed], severity)
    policy = policy_for_route(route, ctx.config.services, ctx.config.escalation_policies)
    page_id = flows.create_page(ctx, policy_name=policy, content=content, requester=None, source=alert.source,
                                channel_id=None, incident_id=None, alert_key=group)
    with ctx.session() as s:
        for member in routed:
            fresh = s.get(AlertRecord, member[0].id)
            fresh.route_policy, fresh.page_id = policy, page_id
            s.add(fresh)
    return page_id


def _attach_incident(ctx: AppContext, page_id: int, routed: list) -> None:
    """Give an open group page without an incident the group's incident (open, reopened or new), link it to the
    page and its alerts, and invite the people the page reached."""
    with ctx.session() as s:
        page = s.get(PageRecord, page_id)
        if page is None or page.incident_id is not None or page.state == "resolved":
            return
        severity = page.severity or ctx.config.incidents.default_severity
    row, _alert, route, group_title = routed[0]
    # A route naming a service makes it the incident's: named in the title, its owner is invited and its runbook
    # bookmarked like a declare's (bot.followups.bookmarks).
    group_title = service_title(route, group_title)
    _let_pages_go_first()
    incident_id = _incident_for_group(ctx, row, group_title, severity)
    with ctx.session() as s:
        page = store.lock_page(s, page_id)
        page.incident_id = incident_id
        s.add(page)
        for alert_row in s.exec(select(AlertRecord).where(AlertRecord.page_id == page_id)):
            alert_row.incident_id = incident_id
            s.add(alert_row)
        if page.state == "acknowledged":  # acknowledged while the incident was being set up
            flows.acknowledge_incident(s, page)
    _invite_paged(ctx, incident_id, page_id)


def _join_page(ctx: AppContext, page_id: int, rows: list[AlertRecord]) -> None:
    """More alerts of a group whose page is open: they join it and its DMs are updated in place; an alert the
    page already carries (a repeat, a flap) changes nothing."""
    with ctx.session() as s:
        page = s.get(PageRecord, page_id)
        known = {r.fingerprint for r in store.page_alerts(s, page_id) if r.status == "firing"}
        for row in rows:
            fresh = s.get(AlertRecord, row.id)
            fresh.route_policy, fresh.page_id, fresh.incident_id = page.policy, page_id, page.incident_id
            s.add(fresh)
        incident_id = page.incident_id
    joined = [r for r in rows if r.fingerprint not in known]
    if not joined:
        return
    if incident_id is not None:
        from bot.incidents import store as incident_store

        with ctx.session() as s:
            incident_store.add_timeline(s, incident_store.get(s, incident_id), "alert",
                                        f"{len(joined)} more alert(s) firing in the group", actor=None)
    _refresh_group_page(ctx, page_id)


def _refresh_group_page(ctx: AppContext, page_id: int) -> list[AlertRecord]:
    """Rebuild a group page's content from its alerts still firing and update its DMs; returns those alerts."""
    with ctx.session() as s:
        page = s.get(PageRecord, page_id)
        severity = page.severity
        firing = [r for r in store.page_alerts(s, page_id) if r.status == "firing"]
    if firing:
        flows.refresh_content(ctx, page_id, PageContent.from_alerts([_rebuild(r)[0] for r in firing], severity))
    return firing


def _incident_for_group(ctx: AppContext, row: AlertRecord, title: str, severity: str) -> int:
    """The group's open incident; else, when its last incident is resolved, that one reopened (within
    `webhooks.reopen_within`) or a new incident linked to it as "recurred"; else a new incident."""
    from bot.incidents import store as incident_store

    with ctx.session() as s:
        link = s.get(AlertGroupIncident, row.group_identity)
        incident = incident_store.get(s, link.incident_id) if link is not None else None
        if incident is not None and incident.status != "resolved":
            incident_store.add_timeline(s, incident, "alert", f"Alert firing: {row.name}", actor=None)
            return incident.id
        if incident is not None and _may_reopen(ctx, incident):
            _reopen(s, incident, row)
            reopened = (incident.id, incident.channel_id)
        else:
            reopened = None
            previous = (incident.id, incident.number, incident.title) if incident is not None else None
    if reopened is not None:
        if reopened[1]:
            flows._safe_call(ctx.slack.chat_postMessage, channel=reopened[1],
                             text=f":rotating_light: Reopened: the alert group fired again ({row.name}).")
        return reopened[0]
    return _declare_for_group(ctx, row, title, severity, previous)


def _declare_for_group(ctx: AppContext, row: AlertRecord, title: str, severity: str,
                       previous: tuple[int, int, str] | None) -> int:
    """A new incident for the group: its record and the group's link (with the "recurred" row) in one
    transaction, so a crash can never leave the group with two incidents; then its Slack set-up (a step that
    fails is finished by the incidents' repair sweep)."""
    from bot.incidents import service as incident_flows
    from bot.incidents import store as incident_store
    from bot.incidents.domain import shorten_title

    description = _describe(row)
    if previous is not None:
        description = f"Recurred: incident {previous[1]} ({previous[2]}) fired again.\n{description}"
    full = f"[alert] {title}"
    short = shorten_title(full)
    if short != " ".join(full.split()):  # as `declare` does: the whole title stays, first in the description
        description = f"{full.strip()}\n\n{description}"
    with ctx.session() as s:
        incident = incident_store.declare(s, title=short, severity=severity, reporter_id=None,
                                          description=description, source="alert")
        store.link_group_incident(s, row.group_identity, incident.id, previous[0] if previous else None)
        incident_id = incident.id
    incident_flows.ensure_slack_setup(ctx, incident_id)
    incident_flows.run_hooks(ctx, "after_declare", incident_id)
    return incident_id


def _may_reopen(ctx: AppContext, incident) -> bool:
    window = ctx.config.webhooks.reopen_within
    return bool(window) and incident.resolved_at is not None and utcnow() - incident.resolved_at <= window


def _reopen(session, incident, row: AlertRecord) -> None:
    """Back to investigating: the group fired again soon enough after the resolution to be the same problem."""
    from bot.incidents import store as incident_store

    incident.status, incident.resolved_at = "investigating", None
    session.add(incident)
    incident_store.add_timeline(session, incident, "alert", f"Reopened: alert firing again: {row.name}", actor=None)


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


def _resolve(ctx: AppContext, rows: list[AlertRecord]) -> None:
    """Resolved alerts of a group: the page is resolved once its last alert is (one resolution message, said by
    `flows.resolve`); until then its DMs show the alerts still firing. Pages from before group paging were keyed
    by fingerprint and are resolved with their alert."""
    group = rows[0].group_identity or ""
    with ctx.session() as s:
        page = store.open_page_for_group(s, group)
        legacy = [p.id for r in rows for p in store.open_pages_for_alert(s, r.fingerprint)]
        page_id, incident_id = (page.id, page.incident_id) if page is not None else (None, None)
    for old in legacy:
        flows.resolve(ctx, old, actor=None, by_alert=True)
    if page_id is None or _refresh_group_page(ctx, page_id):
        return
    flows.resolve(ctx, page_id, actor=None, by_alert=True)
    if incident_id is not None:
        from bot.incidents import store as incident_store

        with ctx.session() as s:
            incident_store.add_timeline(s, incident_store.get(s, incident_id), "alert",
                                        f"Alert group resolved: {rows[0].name}", actor=None)


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
