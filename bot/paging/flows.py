"""Paging flows: create a page, notify each escalation step by DM, escalate on timeout, acknowledge, resolve,
mirror to PagerDuty.

State changes happen in one locked transaction through the pure state machine (`escalation`); Slack messages
go out after the commit and only when the state really changed, so double clicks and late timers are no-ops.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.context import AppContext
from bot.paging import escalation, messages, store
from bot.paging.burden import page_burden
from bot.paging.config import EscalationPolicyConfig, EscalationStepConfig, NotifyTarget
from bot.paging.escalation import Exhausted, NotifyAction, Position
from bot.paging.messages import PageContent
from bot.paging.pagerduty import PagerDutyClient, pd_severity, routing_key_from_env
from storage.models import BurdenRecord, PageNotification, PageRecord
from storage.types import utcnow

log = logging.getLogger(__name__)
ADHOC_PREFIX = "adhoc:"


def timeout_job_id(page_id: int) -> str:
    return f"page:{page_id}:timeout"


# -- policies ---------------------------------------------------------------------------------------------------

def adhoc_policy(name: str, ctx: AppContext) -> EscalationPolicyConfig | None:
    """Policies for `/page` without a configured policy: a person (5 min, twice) or a rotation (primary, then
    secondary when the rotation has one)."""
    kind, _, target = name[len(ADHOC_PREFIX):].partition(":")
    if kind == "user":
        return EscalationPolicyConfig(name=name, steps=[EscalationStepConfig(notify=f"user:{target}", timeout="5m")],
                                      repeat=2)
    if kind == "rotation":
        rotation = ctx.config.rotation(target)
        if rotation is None:
            return None
        steps = [EscalationStepConfig(notify=f"rotation:{target}", timeout="5m")]
        if getattr(rotation, "secondary", False):
            steps.append(EscalationStepConfig(notify=f"rotation:{target}:secondary", timeout="10m"))
        return EscalationPolicyConfig(name=name, steps=steps, repeat=2)
    return None


def policy_named(ctx: AppContext, name: str) -> EscalationPolicyConfig | None:
    if name.startswith(ADHOC_PREFIX):
        return adhoc_policy(name, ctx)
    return ctx.config.policy(name)


def policy_for_rotation(ctx: AppContext, rotation: str) -> str:
    """The configured policy whose first step pages this rotation, else the ad-hoc one."""
    for policy in ctx.config.escalation_policies:
        first = policy.steps[0].target()
        if first.kind == "rotation" and first.name == rotation:
            return policy.name
    return f"{ADHOC_PREFIX}rotation:{rotation}"


# -- who gets notified ----------------------------------------------------------------------------------------

def resolve_target(ctx: AppContext, target: NotifyTarget) -> tuple[list[str], str | None]:
    """Slack user ids to notify for a step, and the rotation they were paged for (if any)."""
    if target.kind == "user":
        return [target.name], None
    lookup = ctx.services.get("oncall_lookup")
    if lookup is None:
        return [], target.name
    user = lookup(ctx, target.name, target.role, utcnow())
    return ([user] if user else []), target.name


def _member_zone(ctx: AppContext, user_id: str, rotation: str | None) -> str:
    rotations = [ctx.config.rotation(rotation)] if rotation else list(ctx.config.rotations)
    for rot in rotations:
        for member in getattr(rot, "members", []) or []:
            if getattr(member, "user", None) == user_id:
                return getattr(member, "timezone", None) or getattr(rot, "timezone", "UTC")
    return "UTC"


# -- creating and notifying ---------------------------------------------------------------------------------------

def create_page(ctx: AppContext, *, policy_name: str, content: PageContent, requester: str | None, source: str,
                channel_id: str | None, incident_id: int | None = None, alert_key: str | None = None) -> int:
    """Store a new page and notify its first step. Returns the page id."""
    policy = policy_named(ctx, policy_name)
    if policy is None:
        raise ValueError(f"unknown escalation policy {policy_name!r}")
    now = utcnow()
    with ctx.session() as s:
        row = PageRecord(policy=policy.name, title=content.title[:300], message=content.details,
                         severity=content.severity, requester_id=requester, source=source,
                         channel_id=channel_id or policy.channel, incident_id=incident_id, alert_key=alert_key,
                         content=_content_to_dict(content), history=[], created_at=now)
        s.add(row)
        s.flush()
        page, action = escalation.new_page(str(row.id), policy, now, actor=requester)
        store.apply_page(row, page)
        s.flush()
        page_id = row.id
        # Queued while the page is being written, before any later change can be: mirror events keep their order.
        _mirror(ctx, policy, page_id, "trigger", content)
    notify_step(ctx, page_id, policy, action, content)
    return page_id


def notify_step(ctx: AppContext, page_id: int, policy: EscalationPolicyConfig, action: NotifyAction,
                content: PageContent) -> list[str]:
    """DM everyone the step targets and schedule its timeout. Returns the users notified.

    When a DM fails because Slack is struggling (5xx, rate limits, connection errors, after the client's own
    retries), the step is retried shortly instead of escalating at once: a Slack blip must not rush a page through
    every step to "nobody acknowledged". When there is nobody to notify (an empty rotation, an unknown user), the
    page moves on almost at once."""
    users, rotation = resolve_target(ctx, action.target)
    now = utcnow()
    notified, transient = _send_page_dms(ctx, page_id, policy, action, content, users, rotation, now)
    scheduler = ctx.services.get("scheduler")
    delay = action.timeout if (notified or transient) else timedelta(seconds=1)
    if scheduler is not None:
        from bot import jobs

        position = (page_id, action.position.pass_number, action.position.step_index)
        scheduler.at(timeout_job_id(page_id), now + delay, jobs.page_timeout, position, grace=None)
        if transient:
            scheduler.at(retry_job_id(page_id), now + RETRY_DELAY, jobs.page_retry, position, grace=None)
    if transient:
        _tell_channel(ctx, page_id, f":warning: Page `{page_id}`: Slack did not take the DM to "
                      f"{', '.join(f'<@{u}>' for u in transient)}; retrying in {int(RETRY_DELAY.total_seconds())} s.")
    elif not notified:
        _tell_channel(ctx, page_id, f":warning: Page `{page_id}`: nobody could be notified for "
                      f"{action.target.describe()}; moving to the next step.")
    return notified


RETRY_DELAY = timedelta(seconds=30)
# Slack errors that say "try again later" rather than "this person cannot be reached".
_TRANSIENT_SLACK_ERRORS = {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}


def retry_job_id(page_id: int) -> str:
    return f"page:{page_id}:retry"


def _send_page_dms(ctx: AppContext, page_id: int, policy: EscalationPolicyConfig, action: NotifyAction,
                   content: PageContent, users: list[str], rotation: str | None, now) -> tuple[list[str], list[str]]:
    """DM each user; record every attempt. Returns (notified, failed for a transient reason)."""
    notified, transient = [], []
    for user in users:
        msg = messages.page_message(str(page_id), content, policy_name=_policy_label(policy),
                                    position=action.position, total_steps=len(policy.steps), repeat=policy.repeat,
                                    target=action.target)
        channel, ts, error = None, None, None
        try:
            channel = ctx.slack.conversations_open(users=user)["channel"]["id"]
            ts = ctx.slack.chat_postMessage(channel=channel, **msg)["ts"]
            notified.append(user)
        except Exception as exc:  # noqa: BLE001 - recorded; retried or escalated, never dropped
            error = _err(exc)
            if _is_transient(exc):
                transient.append(user)
            log.warning("page %s: could not DM %s: %s", page_id, user, error)
        with ctx.session() as s:
            s.add(PageNotification(page_id=page_id, user_id=user, rotation=rotation, channel_id=channel,
                                   message_ts=ts, pass_number=action.position.pass_number,
                                   step_index=action.position.step_index, at=now, error=error))
            if error is None:
                s.add(BurdenRecord(user_id=user, rotation=rotation, at=now, page_id=page_id, kind="page",
                                   weight=page_burden(now, _member_zone(ctx, user, rotation))))
    return notified, transient


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200) or 200
        return status >= 500 or status == 429 or exc.response.get("error") in _TRANSIENT_SLACK_ERRORS
    return True  # connection errors, timeouts


def on_retry(ctx: AppContext, page_id: int, pass_number: int, step_index: int) -> None:
    """Scheduled after a transient DM failure: DM again the people of this step who have not been reached, if the
    page is still open, unacknowledged and at that step."""
    with ctx.session() as s:
        row = s.get(PageRecord, page_id)
        if row is None or row.state in ("acknowledged", "resolved") or row.exhausted:
            return
        if (row.pass_number, row.step_index) != (pass_number, step_index):
            return
        policy = policy_named(ctx, row.policy)
        reached = {n.user_id for n in store.notifications(s, page_id)
                   if n.error is None and (n.pass_number, n.step_index) == (pass_number, step_index)}
        content = _content_from_dict(row.content, row.title)
    if policy is None:
        return
    action = escalation.action_at(policy, Position(pass_number=pass_number, step_index=step_index))
    if not isinstance(action, NotifyAction):
        return
    users, rotation = resolve_target(ctx, action.target)
    pending = [u for u in users if u not in reached]
    if not pending:
        return
    notified, transient = _send_page_dms(ctx, page_id, policy, action, content, pending, rotation, utcnow())
    scheduler = ctx.services.get("scheduler")
    if transient and scheduler is not None:
        from bot import jobs

        scheduler.at(retry_job_id(page_id), utcnow() + RETRY_DELAY, jobs.page_retry,
                     (page_id, pass_number, step_index), grace=None)
    if notified:
        _tell_channel(ctx, page_id, f":white_check_mark: Page `{page_id}` reached "
                      f"{', '.join(f'<@{u}>' for u in notified)} on a retry.")


def _policy_label(policy: EscalationPolicyConfig) -> str:
    if policy.name.startswith(ADHOC_PREFIX):
        return policy.name[len(ADHOC_PREFIX):].replace(":", " ")
    return policy.name


# -- transitions ----------------------------------------------------------------------------------------------------

def on_step_timeout(ctx: AppContext, page_id: int, pass_number: int, step_index: int) -> None:
    """Scheduled: the step at (pass, step) timed out. A no-op if the page moved on or was acknowledged."""
    _escalate(ctx, page_id, actor=None, expected=Position(pass_number=pass_number, step_index=step_index))


def escalate(ctx: AppContext, page_id: int, actor: str, expected: Position | None) -> str:
    """Someone pressed Escalate. Returns what happened, for the person who clicked."""
    return _escalate(ctx, page_id, actor=actor, expected=expected)


def _escalate(ctx: AppContext, page_id: int, *, actor: str | None, expected: Position | None) -> str:
    with ctx.session() as s:
        row = store.lock_page(s, page_id)
        if row is None:
            return f"page {page_id} does not exist"
        policy = policy_named(ctx, row.policy)
        if policy is None:
            return f"page {page_id}: its escalation policy {row.policy!r} is no longer configured"
        result = escalation.escalate(store.to_page(row), policy, utcnow(), actor=actor, expected=expected)
        if result.changed:
            store.apply_page(row, result.page)
            s.add(row)
        content = _content_from_dict(row.content, row.title)
    if not result.changed:
        return result.message
    if isinstance(result.action, NotifyAction):
        _tell_channel(ctx, page_id, messages.escalation_text(str(page_id), content.title, result.action.target, actor))
        notify_step(ctx, page_id, policy, result.action, content)
    elif isinstance(result.action, Exhausted):
        text = messages.nobody_acknowledged_text(str(page_id), content.title, _policy_label(policy),
                                                 result.action.passes)
        told = _tell_channel(ctx, page_id, text, always=True)
        # The policy's own channel hears it too: that is where the team that owns the policy looks.
        if policy.channel and policy.channel != told:
            _safe_call(ctx.slack.chat_postMessage, channel=policy.channel, text=text)
    return result.message


def acknowledge(ctx: AppContext, page_id: int, user: str) -> tuple[bool, str]:
    """Acknowledge a page (idempotent). Returns (changed, message for the person who clicked)."""
    with ctx.session() as s:
        row = store.lock_page(s, page_id)
        if row is None:
            return False, f"Page {page_id} does not exist."
        try:
            result = escalation.acknowledge(store.to_page(row), utcnow(), user)
        except escalation.InvalidTransition as exc:
            return False, str(exc)
        if result.changed:
            store.apply_page(row, result.page)
            row.acknowledged_at = utcnow()
            s.add(row)
            _acknowledge_incident(s, row)
        content = _content_from_dict(row.content, row.title)
        policy = policy_named(ctx, row.policy)
        if result.changed and policy is not None:
            _mirror(ctx, policy, page_id, "acknowledge", content)  # queued under the row lock: in state order
    if not result.changed:
        return False, f"Page {page_id} is already acknowledged."
    scheduler = ctx.services.get("scheduler")
    if scheduler is not None:
        scheduler.cancel(timeout_job_id(page_id))
        scheduler.cancel(retry_job_id(page_id))
    text = messages.ack_confirmation_text(str(page_id), content.title, user)
    _close_dms(ctx, page_id, content, text)
    _tell_channel(ctx, page_id, text)
    return True, text


def resolve(ctx: AppContext, page_id: int, *, actor: str | None, note: str = "", by_alert: bool = False) -> bool:
    """Resolve a page: stop escalation, note it in the DM threads and the channel, resolve the mirror."""
    with ctx.session() as s:
        row = store.lock_page(s, page_id)
        if row is None:
            return False
        result = escalation.resolve(store.to_page(row), utcnow(), actor, note)
        if result.changed:
            store.apply_page(row, result.page)
            row.resolved_at = utcnow()
            s.add(row)
        content = _content_from_dict(row.content, row.title)
        policy = policy_named(ctx, row.policy)
        notes = store.notifications(s, page_id)
        if result.changed and policy is not None:
            _mirror(ctx, policy, page_id, "resolve", content)  # queued under the row lock: in state order
    if not result.changed:
        return False
    scheduler = ctx.services.get("scheduler")
    if scheduler is not None:
        scheduler.cancel(timeout_job_id(page_id))
        scheduler.cancel(retry_job_id(page_id))
    text = messages.resolution_note_text(str(page_id), content.title, resolved_by=actor, note=note, by_alert=by_alert)
    for n in notes:
        if n.channel_id and n.message_ts:
            _safe_call(ctx.slack.chat_postMessage, channel=n.channel_id, thread_ts=n.message_ts, text=text)
    _close_dms(ctx, page_id, content, text)
    _tell_channel(ctx, page_id, text)
    return True


def _acknowledge_incident(session, row: PageRecord) -> None:
    if row.incident_id is None:
        return
    from bot.incidents import service as incident_service

    incident = incident_service.get(session, row.incident_id)
    if incident is not None and incident.acknowledged_at is None:
        incident.acknowledged_at = utcnow()
        session.add(incident)
        incident_service.add_timeline(session, incident, "page", f"Page {row.id} acknowledged by <@{row.acknowledged_by}>",
                                      actor=row.acknowledged_by)


# -- Slack helpers ------------------------------------------------------------------------------------------------

def _close_dms(ctx: AppContext, page_id: int, content: PageContent, status_text: str) -> None:
    """Replace the buttons in every DM of this page with its status, so nobody acts on a stale page."""
    with ctx.session() as s:
        notes = store.notifications(s, page_id)
    closed = messages.page_message_closed(str(page_id), content, status_text)
    for n in notes:
        if n.channel_id and n.message_ts:
            _safe_call(ctx.slack.chat_update, channel=n.channel_id, ts=n.message_ts, **closed)


def _tell_channel(ctx: AppContext, page_id: int, text: str, *, always: bool = False) -> str | None:
    """Post in the page's channel (the incident channel, else the /page channel or the policy channel, else the
    fallback channel). Returns the channel used."""
    with ctx.session() as s:
        row = s.get(PageRecord, page_id)
        channel = row.channel_id if row else None
        if row is not None and row.incident_id is not None:
            from storage.models import Incident

            incident = s.get(Incident, row.incident_id)
            channel = (incident.channel_id if incident else None) or channel
    if channel is None:
        channel = ctx.config.webhooks.fallback_channel
    if channel is None:
        if always:
            log.error("page %s: %s (no channel configured to say it in)", page_id, text)
        return None
    _safe_call(ctx.slack.chat_postMessage, channel=channel, text=text)
    return channel


def _safe_call(fn, **kwargs) -> Any:
    try:
        return fn(**kwargs)
    except Exception as exc:  # noqa: BLE001
        log.warning("Slack call failed: %s", _err(exc))
        return None


def _err(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return exc.__class__.__name__


# -- PagerDuty mirror ---------------------------------------------------------------------------------------------

def _mirror(ctx: AppContext, policy: EscalationPolicyConfig, page_id: int, event: str, content: PageContent) -> None:
    """Mirror to PagerDuty off the request thread: its failure or slowness never blocks the Slack page.

    Events go through one queue, in order: a trigger overtaken by its own resolve would re-open the incident in
    PagerDuty, and an acknowledge arriving after the resolve would leave the wrong status recorded."""
    key = routing_key_from_env(policy.pagerduty)
    if key is None:
        return
    _mirror_queue(ctx).put((key, page_id, event, content))


def _mirror_queue(ctx: AppContext) -> "queue.Queue":
    with _MIRROR_LOCK:
        q = ctx.services.get("pagerduty_queue")
        if q is None:
            q = queue.Queue()
            ctx.services["pagerduty_queue"] = q
            thread = threading.Thread(target=_mirror_worker, args=(ctx, q), name="pagerduty-mirror", daemon=True)
            thread.start()
            # Stopping drains what is queued first (the sentinel comes last), then the thread ends.
            ctx.services.setdefault("on_stop", []).insert(0, lambda: q.put(None))
            ctx.services.setdefault("background_threads", []).append(thread)
        return q


_MIRROR_LOCK = threading.Lock()


def _mirror_worker(ctx: AppContext, q: "queue.Queue") -> None:
    while True:
        item = q.get()
        if item is None:
            return
        try:
            _send_mirror_event(ctx, *item)
        except Exception:  # noqa: BLE001 - one bad event must not stop the mirror
            log.exception("PagerDuty mirror event failed")


def _send_mirror_event(ctx: AppContext, key: str, page_id: int, event: str, content: PageContent) -> None:
    client = ctx.services.get("pagerduty_factory", lambda k: PagerDutyClient(k))(key)
    try:
        if event == "trigger":
            result = client.trigger(str(page_id), content.title or f"Page {page_id}",
                                    severity=pd_severity(content.severity), source="firewatch",
                                    custom_details={"details": content.details, **dict(content.labels)})
        elif event == "acknowledge":
            result = client.acknowledge(str(page_id))
        else:
            result = client.resolve(str(page_id))
    finally:
        close = getattr(client, "close", None)
        if close is not None and "pagerduty_factory" not in ctx.services:
            close()
    with ctx.session() as s:
        row = s.get(PageRecord, page_id)
        if row is not None:
            row.pagerduty_status = f"{event}: {'ok' if result.ok else 'failed'} ({result.message})"[:200]
            s.add(row)
    if not result.ok:
        log.warning("page %s: PagerDuty %s failed: %s", page_id, event, result.message)


# -- content (de)serialisation ------------------------------------------------------------------------------------

def _content_to_dict(c: PageContent) -> dict[str, Any]:
    return {"title": c.title, "details": c.details, "severity": c.severity, "links": [list(x) for x in c.links],
            "labels": [list(x) for x in c.labels], "started_at": c.started_at.isoformat() if c.started_at else None,
            "source": c.source}


def _content_from_dict(d: dict[str, Any] | None, fallback_title: str) -> PageContent:
    from datetime import datetime

    if not d:
        return PageContent(title=fallback_title)
    return PageContent(title=d.get("title") or fallback_title, details=d.get("details") or "",
                       severity=d.get("severity"), links=tuple(tuple(x) for x in d.get("links") or []),
                       labels=tuple(tuple(x) for x in d.get("labels") or []),
                       started_at=datetime.fromisoformat(d["started_at"]) if d.get("started_at") else None,
                       source=d.get("source"))
