"""Contacts use cases: run a person's notification rules after a page reached them (and stop when it closes),
take a key press on a call, and each person's `/oncall contact` actions on their own methods.

Authorisation: a person only ever lists, adds, removes or tests their *own* Slack-added methods; a key press acts
as the person the call was placed to, and the paging service decides whether they may acknowledge/escalate."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.contacts import store
from bot.contacts.domain.config import ContactConfig, method_problem
from bot.contacts.domain.rules import Method, Step, is_open, mask, methods_of, plan
from bot.contacts.senders import Delivery, Notice, SenderSettings, send, voice_callback_url
from bot.context import AppContext
from bot.core.metrics import record_notification
from storage.types import utcnow

log = logging.getLogger(__name__)
JOB_REFERENCE = "bot.contacts.jobs:notify_step"


def job_id(page_id: int, user_id: str, step_index: int, pass_number: int = 1) -> str:
    return f"contacts:{page_id}:{user_id}:{pass_number}:{step_index}"


def contact_config(ctx: AppContext, user_id: str) -> ContactConfig | None:
    return next((c for c in ctx.config.contacts if c.user == user_id), None)


def plan_for(ctx: AppContext, user_id: str) -> list[Step]:
    with ctx.session() as s:
        added = store.as_methods(store.added_methods(s, user_id))
    return plan(contact_config(ctx, user_id), added)


# -- pages ---------------------------------------------------------------------------------------------------------

def on_page_reached(ctx: AppContext, page_id: int, user_id: str, now: datetime | None = None) -> int:
    """A page's Slack DM reached `user_id`: schedule their rule steps. Returns the number of steps scheduled."""
    now = now or utcnow()
    steps = plan_for(ctx, user_id)
    with ctx.session() as s:
        row = store.page(s, page_id)
        pass_number = row.pass_number if row is not None else 1
    scheduler = ctx.services.scheduler
    for step in steps:
        if scheduler is not None and getattr(scheduler, "started", False):
            # No misfire limit: a call owed while we were restarting is still owed (the job re-checks the page).
            scheduler.at(job_id(page_id, user_id, step.index, pass_number), step.due(now), JOB_REFERENCE,
                         (page_id, user_id, step.index, pass_number), grace=None)
        elif step.after.total_seconds() == 0:
            run_step(ctx, page_id, user_id, step.index, now=now, pass_number=pass_number)
    return len(steps)


def on_page_closed(ctx: AppContext, page_id: int, *_status: str) -> int:
    """The page was acknowledged or resolved: cancel its remaining steps (each step also re-checks the page)."""
    scheduler = ctx.services.scheduler
    if scheduler is None or not getattr(scheduler, "started", False):
        return 0
    prefix = f"contacts:{page_id}:"
    cancelled = [jid for jid in scheduler.job_ids() if jid.startswith(prefix) and scheduler.cancel(jid)]
    return len(cancelled)


def page_notice(ctx: AppContext, row, user_id: str, *, private: bool = False) -> Notice:
    """What SMS, push, email and the call say. A private incident's page says only that there is one: push
    topics, mailboxes and lock screens are not as closed as the incident's channel."""
    callback = voice_callback_url(ctx.settings.public_url, row.id, user_id)
    if private:
        text = f"Firewatch page {row.id} for a private incident. Open Slack to see it and acknowledge."
        return Notice(title=f"Firewatch page {row.id} (private incident)", text=text, voice_callback=callback)
    severity = f"[{row.severity}] " if row.severity else ""
    text = (f"{severity}{row.title}\n{(row.message or '').strip()[:600]}\n"
            f"Page {row.id} ({row.policy}). Acknowledge in Slack, or press 1 on the call.").strip()
    return Notice(title=f"Firewatch page: {severity}{row.title}"[:200], text=text, voice_callback=callback)


def run_step(ctx: AppContext, page_id: int, user_id: str, step_index: int, *, now: datetime | None = None,
             settings: SenderSettings | None = None, pass_number: int = 1) -> list[Delivery]:
    """Try step `step_index` of `user_id`'s rules for the page, unless the page is no longer open or the step ran."""
    with ctx.session() as s:
        row = store.page(s, page_id)
        if row is None or not is_open(row.state):
            log.info("page %s: contact step %s for %s skipped (page %s)", page_id, step_index, user_id,
                     row.state if row else "gone")
            return []
        if store.step_attempted(s, page_id, user_id, step_index, pass_number):
            return []
        notice = page_notice(ctx, row, user_id, private=store.incident_private(s, row.incident_id))
    steps = plan_for(ctx, user_id)
    if step_index >= len(steps):
        return []  # the rules changed since the page reached them
    settings = settings or SenderSettings()
    results = []
    for method in steps[step_index].methods:
        delivery = send(settings, method, notice)
        _record(ctx, page_id, user_id, step_index, method, delivery, now or utcnow(), pass_number)
        results.append(delivery)
    return results


def _record(ctx: AppContext, page_id: int | None, user_id: str, step_index: int, method: Method,
            delivery: Delivery, at: datetime, pass_number: int = 1) -> None:
    with ctx.session() as s:
        store.record_attempt(s, page_id=page_id, user_id=user_id, step_index=step_index, method=method.kind,
                             pass_number=pass_number,
                             address=mask(method.address), result=delivery.result, detail=delivery.detail,
                             external_id=delivery.external_id, at=at)
    record_notification(method.kind, delivery.result)


def voice_keypress(ctx: AppContext, page_id: int, user_id: str, call_sid: str, digits: str) -> str:
    """A verified key press on a page call; returns what the call says back."""
    from bot.paging import service as paging

    with ctx.session() as s:
        known = store.call_attempt(s, page_id, user_id, call_sid) is not None
    if not known:
        return "This call does not belong to an open page. Goodbye."
    if digits == "1":
        result = paging.acknowledge_page(ctx, page_id, user_id)
        if result.changed:
            on_page_closed(ctx, page_id, "acknowledged")
            return "Acknowledged. The other notifications are cancelled. Goodbye."
        return "Nothing changed: " + _spoken(result.text)
    if digits == "2":
        result = paging.escalate_page(ctx, page_id, user_id, None)
        # Paging's own words: it knows whether there was a next step to move to.
        return _spoken(result.text) + " Goodbye."
    return "Press 1 to acknowledge, 2 to escalate."


def _spoken(text: str) -> str:
    return text.replace("`", "").replace("*", "")


# -- a person's own methods (`/oncall contact ...`) ----------------------------------------------------------------

@dataclass(frozen=True)
class MethodView:
    index: int
    kind: str
    address: str
    source: str  # "firewatch.yaml" or "Slack"


def list_methods(ctx: AppContext, user_id: str) -> list[MethodView]:
    contact = contact_config(ctx, user_id)
    with ctx.session() as s:
        added = store.as_methods(store.added_methods(s, user_id))
    yaml_methods = methods_of(contact, [])
    views = [MethodView(i + 1, m.kind, m.address, "firewatch.yaml" if m in yaml_methods else "Slack")
             for i, m in enumerate(methods_of(contact, added))]
    return views


def add_method(ctx: AppContext, user_id: str, kind: str, address: str) -> tuple[bool, str]:
    """Add one of the caller's own methods; (added, message)."""
    problem = method_problem(kind, address)
    if problem:
        return False, problem
    with ctx.session() as s:
        if store.find_method(s, user_id, kind, address) is not None or Method(kind, address) in methods_of(
                contact_config(ctx, user_id), []):
            return False, f"You already have {kind} {mask(address)}."
        store.add_method(s, user_id, kind, address)
    return True, f"Added {kind} {mask(address)}. Try it with `/oncall contact test`."


def remove_method(ctx: AppContext, user_id: str, number: int) -> tuple[bool, str]:
    """Remove the caller's method number `number` (as `/oncall contact list` shows); YAML ones are refused."""
    views = list_methods(ctx, user_id)
    view = next((v for v in views if v.index == number), None)
    if view is None:
        return False, f"You have no contact method {number}; `/oncall contact list` shows the numbers."
    if view.source != "Slack":
        return False, (f"{view.kind} {mask(view.address)} is set in firewatch.yaml; ask an admin to change it there.")
    with ctx.session() as s:
        row = store.find_method(s, user_id, view.kind, view.address)
        if row is not None:
            s.delete(row)
    return True, f"Removed {view.kind} {mask(view.address)}."


def test_methods(ctx: AppContext, user_id: str, settings: SenderSettings | None = None
                 ) -> list[tuple[Method, Delivery]]:
    """Send a test through each of the caller's methods (no key presses on the call); every try is recorded."""
    settings = settings or SenderSettings()
    notice = Notice(title="Firewatch test notification",
                    text="This is a test from /oncall contact test. Nothing is wrong.")
    out = []
    for view in list_methods(ctx, user_id):
        method = Method(view.kind, view.address)
        delivery = send(settings, method, notice)
        _record(ctx, None, user_id, 0, method, delivery, utcnow())
        out.append((method, delivery))
    return out


# -- coverage --------------------------------------------------------------------------------------------------------

def contact_problem(ctx: AppContext, user_id: str, settings: SenderSettings | None = None) -> str | None:
    """Why a page would reach `user_id` in Slack only (no method, or none of theirs configured), or None.

    For coverage checks (on-call people with no working contact method)."""
    settings = settings or SenderSettings()
    with ctx.session() as s:
        added = store.as_methods(store.added_methods(s, user_id))
    methods = methods_of(contact_config(ctx, user_id), added)
    if not methods:
        return f"<@{user_id}> has no contact method besides Slack (`/oncall contact add sms +44...`)"
    reasons = sorted({settings.missing_for(m.kind) for m in methods} - {None})
    working = [m for m in methods if settings.missing_for(m.kind) is None]
    if not working:
        return f"none of <@{user_id}>'s contact methods can be used: {'; '.join(r for r in reasons if r)}"
    return None


def page_attempts(ctx: AppContext, page_id: int) -> list:
    """Every notification attempt for a page, oldest first (method, masked address, time, result, detail)."""
    with ctx.session() as s:
        rows = store.attempts(s, page_id)
        for row in rows:
            s.expunge(row)
    return rows


def page_attempts_text(ctx: AppContext, page_id: int) -> str:
    """The page's attempts as one mrkdwn line ("" when none), for paging to show on the page message."""
    from bot.contacts.messages import attempts_text

    return attempts_text(page_attempts(ctx, page_id))
