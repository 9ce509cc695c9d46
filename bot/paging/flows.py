"""Paging flows: create a page, notify each escalation step by DM, escalate on timeout, acknowledge, resolve,
mirror to PagerDuty.

State changes happen in one locked transaction through the pure state machine (`escalation`); Slack messages
go out after the commit and only when the state really changed, so double clicks and late timers are no-ops.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from datetime import timedelta
from typing import Any, Callable

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError

from bot.context import AppContext
from bot.core.metrics import record_page
from bot.core.slack_errors import slack_error_code
from bot.correlation import bind_page
from bot.paging.domain import escalation, routing
from bot.paging.domain.routing import ADHOC_PREFIX
from bot.paging import messages, store
from bot.paging.domain.burden import page_burden
from bot.paging.domain.config import EscalationPolicyConfig, EscalationStepConfig, NotifyTarget
from bot.paging.domain.escalation import Exhausted, NotifyAction, Position
from bot.paging.messages import PageContent
from bot.paging.pagerduty import PagerDutyClient, pd_severity, routing_key_from_env
from storage.models import BurdenRecord, PageNotification, PageRecord
from storage.types import utcnow

log = logging.getLogger(__name__)


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
    return routing.policy_for_rotation(ctx.config.escalation_policies, rotation)


# -- who gets notified ----------------------------------------------------------------------------------------

def resolve_target(ctx: AppContext, target: NotifyTarget) -> tuple[list[str], str | None]:
    """Slack user ids to notify for a step, and the rotation they were paged for (if any)."""
    if target.kind == "user":
        return [target.name], None
    lookup = ctx.services.oncall_lookup
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
        _record_step_due(row, action, now)
        s.flush()
        page_id = row.id
        # Queued while the page is being written, before any later change can be: mirror events keep their order.
        _mirror(ctx, policy, page_id, "trigger", content)
    record_page("opened")
    deliver_step(ctx, page_id)
    return page_id


def _record_step_due(row: PageRecord, action: NotifyAction | Exhausted | None, now) -> None:
    """In the transition's own transaction: the step's notification is now owed (the outbox entry). If the
    process dies before delivering it, the leader's sweep delivers it."""
    row.step_notified = action is None
    row.next_step_at = now + action.timeout if isinstance(action, NotifyAction) else None


def _record_step_done(row: PageRecord) -> None:
    row.step_notified = True
    row.next_step_at = None


def deliver_step(ctx: AppContext, page_id: int, *, wait: bool = True) -> bool:
    """Deliver the notification owed for a page's current step, exactly once: DM the step's people (skipping
    anyone this step already reached), say in the channel that it escalated or that the policy ran out, then
    record it delivered with the step's deadline. Returns False if there was nothing to deliver (already done,
    acknowledged, resolved) or another thread or process is delivering it."""
    bind_page(page_id)  # log lines of this request or job carry the page id
    with store.delivery_claim(ctx.session, ctx.engine, page_id, wait=wait) as claim:
        if claim is False:
            return False
        if claim is None:
            with ctx.session() as s:
                row = s.get(PageRecord, page_id)
                snapshot = _delivery_snapshot(ctx, s, row)
        else:
            row = claim.get(PageRecord, page_id)
            snapshot = _delivery_snapshot(ctx, claim, row)
        if snapshot is None:
            return False
        policy, position, content, earlier, announce = snapshot
        deadline = _deliver(ctx, page_id, policy, position, content, earlier, announce, exhausted=row.exhausted)
        if claim is not None:
            try:
                row.step_notified, row.next_step_at = True, deadline
                claim.add(row)
                claim.commit()
                return True
            except DBAPIError:
                try:
                    claim.rollback()  # the connection died with the claim; record it below once the database is back
                except DBAPIError:
                    pass

        def mark_delivered() -> None:
            with ctx.session() as s:
                fresh = store.lock_page(s, page_id)
                if fresh is not None and (fresh.pass_number, fresh.step_index) == (position.pass_number,
                                                                                    position.step_index):
                    fresh.step_notified, fresh.next_step_at = True, deadline
                    s.add(fresh)

        _durably(f"page {page_id}: recording the delivery", mark_delivered)
        return True


# How long a process keeps trying to record what it already sent to Slack while the database is unreachable.
RECORD_RETRY_SECONDS = 180.0


def _durably(what: str, write: Callable[[], Any]) -> Any:
    """Run a write that records something already done in Slack, retrying through a database outage: forgetting
    a DM that went out would send it again (the sweep redelivers whatever is not recorded)."""
    deadline = time.monotonic() + RECORD_RETRY_SECONDS
    while True:
        try:
            return write()
        except DBAPIError as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("%s: database unavailable (%s); retrying", what, exc.__class__.__name__)
            time.sleep(0.5)  # short on purpose: the record must land before a new leader's sweep looks


def _delivery_snapshot(ctx: AppContext, s, row: PageRecord | None):
    """What a delivery needs, or None (and the owed flag cleared when nothing can be delivered)."""
    if row is None or row.step_notified:
        return None
    if row.state not in store.OPEN_STATES:
        _record_step_done(row)
        s.add(row)
        return None
    policy = policy_named(ctx, row.policy)
    if policy is None:
        log.error("page %s: its escalation policy %r is no longer configured; not notifying", row.id, row.policy)
        _record_step_done(row)
        s.add(row)
        return None
    position = Position(pass_number=row.pass_number, step_index=row.step_index)
    here = [n for n in store.notifications(s, row.id)
            if (n.pass_number, n.step_index) == (position.pass_number, position.step_index)]
    reached = {n.user_id for n in here if n.error is None}
    # A DM started but never recorded: the process died while sending it. Slack is asked before sending again.
    uncertain = {n.user_id for n in here if n.error == DM_IN_FLIGHT} - reached
    last = (row.history or [{}])[-1]
    return (policy, position, _content_from_dict(row.content, row.title), (reached, uncertain, bool(here)),
            (position != Position(), last.get("actor")))


def _deliver(ctx: AppContext, page_id: int, policy: EscalationPolicyConfig, position: Position, content: PageContent,
             earlier: tuple[set[str], set[str]], announce: tuple[bool, str | None], *, exhausted: bool):
    """Send what the step owes; returns the step's deadline (None when the policy ran out)."""
    if exhausted:
        text = messages.nobody_acknowledged_text(str(page_id), content.title, _policy_label(policy), policy.repeat)
        # Said once: a delivery resumed after a crash looks in the channel first (there is no intent row to tell).
        told = _channel_for(ctx, page_id)
        if told is None or not _history_has(ctx, told, text):
            told = _tell_channel(ctx, page_id, text, always=True)
        # The policy's own channel hears it too: that is where the team that owns the policy looks.
        if policy.channel and policy.channel != told and not _history_has(ctx, policy.channel, text):
            _safe_call(ctx.slack.chat_postMessage, channel=policy.channel, text=text)
        return None
    action = escalation.action_at(policy, position)
    if not isinstance(action, NotifyAction):
        return None
    reached, uncertain, resumed = earlier
    users, rotation = resolve_target(ctx, action.target)
    intents: dict[str, int] = {}
    if not resumed:
        # Intents first: from here on a crash leaves a trace, and whoever resumes checks Slack before re-sending.
        intents = {u: _record_dm(ctx, page_id, action, rotation, u, utcnow(), None, None, None, error=DM_IN_FLIGHT)
                   for u in users if u not in reached}
    should_announce, actor = announce
    if should_announce:
        # The channel hears "escalated" once per step: a resumed delivery first looks whether it already did.
        text = messages.escalation_text(str(page_id), content.title, action.target, actor)
        if not resumed or not _channel_has(ctx, page_id, text):
            _tell_channel(ctx, page_id, text)
    return notify_step(ctx, page_id, policy, action, content, skip=reached, uncertain=uncertain, intents=intents,
                       resolved=(users, rotation))


def notify_step(ctx: AppContext, page_id: int, policy: EscalationPolicyConfig, action: NotifyAction,
                content: PageContent, *, skip: set[str] = frozenset(), uncertain: set[str] = frozenset(),
                intents: dict[str, int] | None = None, resolved: tuple[list[str], str | None] | None = None):
    """DM everyone the step targets (but `skip`, already reached) and schedule its timeout. Returns the step's
    deadline. People in `uncertain` may have been DMed by a process that died before recording it: their DM
    channel is checked first.

    When a DM fails because Slack is struggling (5xx, rate limits, connection errors, after the client's own
    retries), the step is retried shortly instead of escalating at once: a Slack blip must not rush a page through
    every step to "nobody acknowledged". When there is nobody to notify (an empty rotation, an unknown user), the
    page moves on almost at once."""
    users, rotation = resolved or resolve_target(ctx, action.target)
    now = utcnow()
    already = [u for u in users if u in skip]
    notified, transient = _send_page_dms(ctx, page_id, policy, action, content,
                                         [u for u in users if u not in skip], rotation, now, uncertain=uncertain,
                                         intents=intents or {})
    notified = already + notified
    scheduler = ctx.services.scheduler
    delay = action.timeout if (notified or transient) else timedelta(seconds=1)
    if scheduler is not None:
        position = (page_id, action.position.pass_number, action.position.step_index)
        scheduler.at(timeout_job_id(page_id), now + delay, "bot.jobs:page_timeout", position, grace=None)
        if transient:
            scheduler.at(retry_job_id(page_id), now + retry_delay(action.timeout), "bot.jobs:page_retry", position,
                         grace=None)
    if transient:
        seconds = int(retry_delay(action.timeout).total_seconds())
        _tell_channel(ctx, page_id, f":warning: Page `{page_id}`: Slack did not take the DM to "
                      f"{', '.join(f'<@{u}>' for u in transient)}; retrying in {seconds} s.")
    elif not notified:
        _tell_channel(ctx, page_id, f":warning: Page `{page_id}`: nobody could be notified for "
                      f"{action.target.describe()}; moving to the next step.")
    return now + delay


RETRY_DELAY = timedelta(seconds=30)


def retry_delay(step_timeout: timedelta | None) -> timedelta:
    """When to DM again after a transient failure: 30 s, but always before the step times out (half its
    timeout), so the person is retried before the page escalates past them."""
    if step_timeout is None or step_timeout <= timedelta(0):
        return RETRY_DELAY
    return min(RETRY_DELAY, step_timeout / 2)
# Slack errors that say "try again later" rather than "this person cannot be reached".
_TRANSIENT_SLACK_ERRORS = {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}


def retry_job_id(page_id: int) -> str:
    return f"page:{page_id}:retry"


# `error` of a notification row written just before the DM is sent and replaced by the outcome right after: the
# intent, so a process dying in between leaves a trace for whoever delivers the step next.
DM_IN_FLIGHT = "in flight"


def _send_page_dms(ctx: AppContext, page_id: int, policy: EscalationPolicyConfig, action: NotifyAction,
                   content: PageContent, users: list[str], rotation: str | None, now, *,
                   uncertain: set[str] = frozenset(), intents: dict[str, int] | None = None
                   ) -> tuple[list[str], list[str]]:
    """DM each user; record every attempt (intent first, then the outcome). Returns (notified, failed for a
    transient reason)."""
    notified, transient = [], []
    for user in users:
        if user in uncertain:
            found = _find_sent_dm(ctx, page_id, action.position, user)
            if found is not None:
                _durably(f"page {page_id}: recording the DM to {user}",
                         lambda user=user, found=found: _record_dm(ctx, page_id, action, rotation, user, now,
                                                                   None, *found))
                notified.append(user)
                continue
        # Without the intent recorded nothing is sent: the sweep delivers this step once the database is back.
        intent_id = (intents or {}).get(user) or _record_dm(ctx, page_id, action, rotation, user, now, None, None,
                                                            None, error=DM_IN_FLIGHT)
        msg = messages.page_message(str(page_id), content, policy_name=_policy_label(policy),
                                    position=action.position, total_steps=len(policy.steps), repeat=policy.repeat,
                                    target=action.target)
        channel, ts, error = None, None, None
        try:
            channel = ctx.slack.conversations_open(users=user)["channel"]["id"]
            ts = ctx.slack.chat_postMessage(channel=channel, **msg)["ts"]
            notified.append(user)
        except Exception as exc:  # noqa: BLE001 - recorded; retried or escalated, never dropped
            error = slack_error_code(exc)
            if _is_transient(exc):
                transient.append(user)
            log.warning("page %s: could not DM %s: %s", page_id, user, error)
        _durably(f"page {page_id}: recording the DM to {user}",
                 lambda user=user, channel=channel, ts=ts, error=error, intent_id=intent_id: _record_dm(
                     ctx, page_id, action, rotation, user, now, intent_id, channel, ts, error=error))
        if error is None:
            # After the record: a hook (SMS, voice) starting from "reached" finds the notification row.
            run_page_hooks(ctx, "page_reached", page_id, user)
    return notified, transient


def run_page_hooks(ctx: AppContext, name: str, *args: Any) -> None:
    """Run the `page_reached` / `page_closed` hooks other features add; one failing hook never stops a page."""
    for hook in getattr(ctx.services, name):
        try:
            hook(ctx, *args)
        except Exception:  # noqa: BLE001 - another channel's failure must not undo or block the Slack page
            log.exception("page %s: %s hook %r failed", args[0] if args else "?", name, hook)


def _record_dm(ctx: AppContext, page_id: int, action: NotifyAction, rotation: str | None, user: str, now,
               row_id: int | None, channel: str | None, ts: str | None, *, error: str | None = None) -> int:
    """Write (or, with `row_id`, complete) a notification row; a delivered DM also adds to the person's burden."""
    with ctx.session() as s:
        row = s.get(PageNotification, row_id) if row_id is not None else None
        if row is None:
            row = PageNotification(page_id=page_id, user_id=user, rotation=rotation,
                                   pass_number=action.position.pass_number, step_index=action.position.step_index,
                                   at=now)
        elif row.error is None:
            return row.id  # already completed (a retried write that had landed)
        row.channel_id, row.message_ts, row.error = channel, ts, error
        s.add(row)
        if error is None:
            s.add(BurdenRecord(user_id=user, rotation=rotation, at=now, page_id=page_id, kind="page",
                               weight=page_burden(now, _member_zone(ctx, user, rotation))))
        s.flush()
        return row.id


def _channel_has(ctx: AppContext, page_id: int, text: str) -> bool:
    """Whether the page's channel already shows `text` from us (recent history); False when Slack can't say."""
    channel = _channel_for(ctx, page_id)
    return channel is not None and _history_has(ctx, channel, text)


def _history_has(ctx: AppContext, channel: str, text: str) -> bool:
    try:
        history = ctx.slack.conversations_history(channel=channel, limit=100)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not read the history of %s: %s", channel, slack_error_code(exc))
        return False
    return any(m.get("text") == text for m in history.get("messages") or [])


def _find_sent_dm(ctx: AppContext, page_id: int, position: Position, user: str) -> tuple[str, str] | None:
    """(channel, ts) of this step's DM to `user` if Slack has it, else None (also when Slack can't tell us: then
    the DM is sent again, as a duplicate page beats a lost one)."""
    block_id = messages.page_action_block_id(str(page_id), position)
    try:
        channel = ctx.slack.conversations_open(users=user)["channel"]["id"]
        history = ctx.slack.conversations_history(channel=channel, limit=50)
    except Exception as exc:  # noqa: BLE001 - e.g. missing_scope (im:history)
        log.warning("page %s: could not check whether %s was already DMed: %s", page_id, user, slack_error_code(exc))
        return None
    for message in history.get("messages") or []:
        blocks = message.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if any(isinstance(b, dict) and b.get("block_id") == block_id for b in blocks):
            return channel, message["ts"]
    return None


def _is_transient(exc: Exception) -> bool:
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", 200) or 200
        return status >= 500 or status == 429 or exc.response.get("error") in _TRANSIENT_SLACK_ERRORS
    return True  # connection errors, timeouts


def on_retry(ctx: AppContext, page_id: int, pass_number: int, step_index: int) -> None:
    """Scheduled after a transient DM failure: DM again the people of this step who have not been reached, if the
    page is still open, unacknowledged and at that step."""
    bind_page(page_id)  # log lines of this request or job carry the page id
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
    scheduler = ctx.services.scheduler
    if transient and scheduler is not None:
        scheduler.at(retry_job_id(page_id), utcnow() + retry_delay(action.timeout), "bot.jobs:page_retry",
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
    bind_page(page_id)  # log lines of this request or job carry the page id
    _escalate(ctx, page_id, actor=None, expected=Position(pass_number=pass_number, step_index=step_index))


def sweep_due(ctx: AppContext, now=None) -> int:
    """The leader's sweep: the page rows say which steps are owed or timed out, whatever happened to the jobs.
    Deliveries in progress elsewhere are skipped (their claim is held); a timed-out step is escalated through the
    same locked transition as its job, so whichever runs first wins and the other is a no-op. Returns the number
    of pages acted on."""
    now = now or utcnow()
    with ctx.session() as s:
        due = store.due_pages(s, now)
    acted = 0
    for page_id, pass_number, step_index, delivered in due:
        try:
            if not delivered:
                acted += deliver_step(ctx, page_id, wait=False)
            else:
                on_step_timeout(ctx, page_id, pass_number, step_index)
                acted += 1
        except Exception:  # noqa: BLE001 - one bad page must not hold up the others; the next sweep retries it
            log.exception("sweep: page %s failed", page_id)
    return acted


def escalate(ctx: AppContext, page_id: int, actor: str, expected: Position | None) -> str:
    """Someone pressed Escalate. Returns what happened, for the person who clicked."""
    return _escalate(ctx, page_id, actor=actor, expected=expected)


def _escalate(ctx: AppContext, page_id: int, *, actor: str | None, expected: Position | None) -> str:
    bind_page(page_id)  # log lines of this request or job carry the page id
    with ctx.session() as s:
        row = store.lock_page(s, page_id)
        if row is None:
            return f"page {page_id} does not exist"
        policy = policy_named(ctx, row.policy)
        if policy is None:
            return f"page {page_id}: its escalation policy {row.policy!r} is no longer configured"
        now = utcnow()
        result = escalation.escalate(store.to_page(row), policy, now, actor=actor, expected=expected)
        if result.changed:
            store.apply_page(row, result.page)
            # The next step's notification is owed from this commit on, whatever happens to this process.
            _record_step_due(row, result.action, now)
            s.add(row)
    if not result.changed:
        return result.message
    scheduler = ctx.services.scheduler
    if scheduler is not None:
        scheduler.cancel(retry_job_id(page_id))  # a retry of the previous step has nothing left to do
    record_page("escalated")
    deliver_step(ctx, page_id)
    return result.message


def acknowledge(ctx: AppContext, page_id: int, user: str) -> tuple[bool, str]:
    """Acknowledge a page (idempotent). Returns (changed, message for the person who clicked)."""
    bind_page(page_id)  # log lines of this request or job carry the page id
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
            _record_step_done(row)
            s.add(row)
            acknowledge_incident(s, row)
        content = _content_from_dict(row.content, row.title)
        policy = policy_named(ctx, row.policy)
        if result.changed and policy is not None:
            _mirror(ctx, policy, page_id, "acknowledge", content)  # queued under the row lock: in state order
    if not result.changed:
        return False, f"Page {page_id} is already acknowledged."
    scheduler = ctx.services.scheduler
    if scheduler is not None:
        scheduler.cancel(timeout_job_id(page_id))
        scheduler.cancel(retry_job_id(page_id))
    record_page("acknowledged")
    run_page_hooks(ctx, "page_closed", page_id, "acknowledged")
    text = messages.ack_confirmation_text(str(page_id), content.title, user)
    _close_dms(ctx, page_id, content, text)
    _tell_channel(ctx, page_id, text)
    return True, text


def resolve(ctx: AppContext, page_id: int, *, actor: str | None, note: str = "", by_alert: bool = False) -> bool:
    """Resolve a page: stop escalation, note it in the DM threads and the channel, resolve the mirror."""
    bind_page(page_id)  # log lines of this request or job carry the page id
    with ctx.session() as s:
        row = store.lock_page(s, page_id)
        if row is None:
            return False
        result = escalation.resolve(store.to_page(row), utcnow(), actor, note)
        if result.changed:
            store.apply_page(row, result.page)
            row.resolved_at = utcnow()
            _record_step_done(row)
            s.add(row)
        content = _content_from_dict(row.content, row.title)
        policy = policy_named(ctx, row.policy)
        notes = store.notifications(s, page_id)
        if result.changed and policy is not None:
            _mirror(ctx, policy, page_id, "resolve", content)  # queued under the row lock: in state order
    if not result.changed:
        return False
    scheduler = ctx.services.scheduler
    if scheduler is not None:
        scheduler.cancel(timeout_job_id(page_id))
        scheduler.cancel(retry_job_id(page_id))
    record_page("resolved")
    run_page_hooks(ctx, "page_closed", page_id, "resolved")
    text = messages.resolution_note_text(str(page_id), content.title, resolved_by=actor, note=note, by_alert=by_alert)
    for n in notes:
        if n.channel_id and n.message_ts:
            _safe_call(ctx.slack.chat_postMessage, channel=n.channel_id, thread_ts=n.message_ts, text=text)
    _close_dms(ctx, page_id, content, text)
    _tell_channel(ctx, page_id, text)
    return True


def refresh_content(ctx: AppContext, page_id: int, content: PageContent) -> bool:
    """A group page's alerts changed (one joined, one resolved): store the new content and update its DMs in
    place (chat.update), so the person paged sees the whole group without a second page. False if closed."""
    with ctx.session() as s:
        row = store.lock_page(s, page_id)
        if row is None or row.state not in store.OPEN_STATES:
            return False
        row.content, row.title, row.message = _content_to_dict(content), content.title[:300], content.details
        s.add(row)
        policy = policy_named(ctx, row.policy)
        notes = [n for n in store.notifications(s, page_id) if n.channel_id and n.message_ts and n.error is None]
    if policy is None:
        return True
    for n in notes:
        position = Position(pass_number=n.pass_number, step_index=n.step_index)
        try:
            action = escalation.action_at(policy, position)
        except ValueError:  # the policy lost that step since: the DM keeps its old text
            continue
        target = action.target if isinstance(action, NotifyAction) else None
        msg = messages.page_message(str(page_id), content, policy_name=_policy_label(policy), position=position,
                                    total_steps=len(policy.steps), repeat=policy.repeat, target=target)
        _safe_call(ctx.slack.chat_update, channel=n.channel_id, ts=n.message_ts, **msg)
    return True


def acknowledge_incident(session, row: PageRecord) -> None:
    """The page's incident is acknowledged with it (once: the first acknowledgement counts)."""
    if row.incident_id is None:
        return
    from bot.incidents import store as incident_store

    incident = incident_store.get(session, row.incident_id)
    if incident is not None and incident.acknowledged_at is None:
        incident.acknowledged_at = utcnow()
        session.add(incident)
        incident_store.add_timeline(session, incident, "page",
                                    f"Page {row.id} acknowledged by <@{row.acknowledged_by}>",
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
    channel = _channel_for(ctx, page_id)
    if channel is None:
        if always:
            log.error("page %s: %s (no channel configured to say it in)", page_id, text)
        return None
    _safe_call(ctx.slack.chat_postMessage, channel=channel, text=text)
    return channel


def _channel_for(ctx: AppContext, page_id: int) -> str | None:
    with ctx.session() as s:
        row = s.get(PageRecord, page_id)
        channel = row.channel_id if row else None
        if row is not None and row.incident_id is not None:
            from storage.models import Incident

            incident = s.get(Incident, row.incident_id)
            channel = (incident.channel_id if incident else None) or channel
    return channel or ctx.config.webhooks.fallback_channel


def _safe_call(fn, **kwargs) -> Any:
    try:
        return fn(**kwargs)
    except Exception as exc:  # noqa: BLE001
        log.warning("Slack call failed: %s", slack_error_code(exc))
        return None


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
        q = ctx.services.pagerduty_queue
        if q is None:
            q = queue.Queue()
            # Stopping drains what is queued first (the sentinel comes last), then the thread ends.
            ctx.background.start("pagerduty-mirror", _mirror_worker, ctx, q, wake=lambda: q.put(None))
            ctx.services.pagerduty_queue = q
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
    client = (ctx.services.pagerduty_factory or PagerDutyClient)(key)
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
        if close is not None and ctx.services.pagerduty_factory is None:
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
