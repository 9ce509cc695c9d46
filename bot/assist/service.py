"""Triage and root-cause suggestions in the running app: the LLM client, the after-declare hook, `/incident triage`
and `/incident rca`, Accept/Dismiss, change events and token usage.

Rules this module keeps:
* a suggestion never delays or breaks the incident: the after-declare hook runs on a background thread and
  catches everything; the domain's `triage()`/`rca()` never raise and fall back to heuristics;
* model text never triggers anything: suggestions are stored and shown; only an Accept click applies the stored,
  validated severity (a configured name) and pages the stored owner (a configured rotation);
* clicks are idempotent: one conditional UPDATE decides, so a second Accept (or Accept after Dismiss) is a no-op.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx
from sqlalchemy import update
from sqlmodel import col

from bot.assist import evidence as ev
from bot.assist import messages
from bot.context import AppContext
from bot.core.slack_errors import slack_error_code
from bot.incidents import service as incident_service
from bot.incidents import messages as incident_messages
from bot.incidents import store as incident_store
from bot.assist.domain import ChangeEvent, RcaResult, TriageSuggestion, Usage, rca, resolve_settings, triage
from bot.assist.domain.budget import budget_lines
from bot.assist.domain.heuristic import ServiceOwner
from bot.assist.domain.models import RotationOption
from bot.assist.domain.triage import keep_declared_severity, says_something
from bot.catalog.domain import services_for
from bot.assist.llm_client import LLMClient
from storage.models import ChangeEventRecord, Incident, LLMUsageRecord, SuggestionRecord
from storage.types import utcnow

log = logging.getLogger(__name__)

MAX_CLIENT_HISTORY = 200


# -- the LLM client ------------------------------------------------------------------------------------------------

def build_llm(ctx: AppContext, *, http_client: httpx.Client | None = None,
              env: Mapping[str, str] | None = None) -> LLMClient | None:
    """The client for `ctx.config.llm` + environment (OPENAI_BASE_URL, OPENAI_API_KEY, FIREWATCH_LLM_MODEL), or
    None when no LLM is configured. Always given an explicit httpx.Client (injected or made here)."""
    env = os.environ if env is None else env
    settings = resolve_settings(ctx.config.llm, env)
    if settings is None:
        return None
    http_client = http_client or ctx.services.llm_http_client
    if http_client is None:
        http_client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout_seconds, connect=min(10.0, settings.timeout_seconds)),
            follow_redirects=False,
        )
        ctx.services.owned_http_clients.append(http_client)
    return LLMClient.from_config(ctx.config.llm, env, http_client=http_client)


def configure_llm(ctx: AppContext, *, client: LLMClient | None = None, http_client: httpx.Client | None = None,
                  env: Mapping[str, str] | None = None) -> LLMClient | None:
    """(Re)build `ctx.services.llm`: with `client` as given, or from config/env using `http_client`. Safe to
    call after the server started (handlers read the service at call time)."""
    ctx.services.llm = client if client is not None else build_llm(ctx, http_client=http_client, env=env)
    return ctx.services.llm


def llm_client(ctx: AppContext) -> LLMClient | None:
    return ctx.services.llm


def close_owned_clients(ctx: AppContext) -> None:
    owned, ctx.services.owned_http_clients = ctx.services.owned_http_clients, []
    for client in owned:
        try:
            client.close()
        except Exception:  # noqa: BLE001
            pass


# -- helpers -----------------------------------------------------------------------------------------------------

def display_namer(ctx: AppContext):
    """Slack user id → display name (plain text, never a mention), cached per suggestion."""
    cache: dict[str, str | None] = {}

    def name(user_id: str) -> str | None:
        if user_id not in cache:
            try:
                user = ctx.slack.users_info(user=user_id)["user"]
                profile = user.get("profile") or {}
                cache[user_id] = profile.get("display_name") or user.get("real_name") or user.get("name")
            except Exception:  # noqa: BLE001 - the bare id is shown instead
                cache[user_id] = None
        return cache[user_id]

    return name


def _usage_dict(usage: Usage) -> dict[str, int | None]:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens}


def record_usage(ctx: AppContext, incident_id: int | None, purpose: str, client: LLMClient | None, usage: Usage,
                 calls: int) -> None:
    """One LLMUsageRecord per triage/RCA run that called the model (token counts may be None)."""
    if client is None or calls <= 0:
        return
    # The client keeps a per-call history for benchmarks; in a long-running bot only the recent part matters.
    history = getattr(client, "history", None)
    if isinstance(history, list) and len(history) > MAX_CLIENT_HISTORY:
        del history[:-MAX_CLIENT_HISTORY]
    try:
        with ctx.session() as s:
            s.add(LLMUsageRecord(incident_id=incident_id, purpose=purpose[:32], model=(client.model or "")[:120] or None,
                                 prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                                 total_tokens=usage.total_tokens))
    except Exception:  # noqa: BLE001 - accounting must not lose the suggestion
        log.exception("could not record LLM usage for incident %s", incident_id)


def _incident_label(ctx: AppContext, incident: Incident) -> str:
    return incident_messages.incident_label(incident, ctx.prefix)


def _post(ctx: AppContext, channel_id: str | None, text: str, blocks: list[dict[str, Any]]) -> str | None:
    if not channel_id:
        return None
    resp = ctx.slack.chat_postMessage(channel=channel_id, text=text, blocks=blocks, unfurl_links=False,
                                      unfurl_media=False)
    return resp.get("ts")


def _store_suggestion(ctx: AppContext, incident_id: int, kind: str, source: str, payload: dict[str, Any],
                      channel_id: str | None) -> int:
    with ctx.session() as s:
        row = SuggestionRecord(incident_id=incident_id, kind=kind, source=source, payload=payload, status="shown",
                               channel_id=channel_id)
        s.add(row)
        s.flush()
        return row.id


def _set_message_ts(ctx: AppContext, suggestion_id: int, ts: str | None) -> None:
    if ts is None:
        return
    with ctx.session() as s:
        row = s.get(SuggestionRecord, suggestion_id)
        row.message_ts = ts
        s.add(row)


# -- triage ------------------------------------------------------------------------------------------------------

def triage_payload(ctx: AppContext, bundle: ev.EvidenceBundle, result: TriageSuggestion, client: LLMClient | None,
                   trigger: str) -> dict[str, Any]:
    return {
        "label": messages.source_label(result.source, result.note),
        "source": result.source,
        "model": client.model if (client is not None and result.source == "llm") else None,
        "trigger": trigger,
        "severity_at_suggestion": bundle.incident.severity,
        "suggestion": {
            "severity": result.severity,
            "affected_services": list(result.affected_services),
            "suggested_owner": result.suggested_owner,
            "summary": result.summary,
            "first_steps": [{"text": s.text, "url": s.url} for s in result.first_steps],
            "confidence": result.confidence,
            "evidence_ids": list(result.evidence_ids),
            "note": result.note,
        },
        "evidence": bundle.refs,
        "similar": bundle.similar,
        "budget": budget_lines(bundle.items, ev.severity_options(ctx)),
        "usage": _usage_dict(result.usage),
        "llm_calls": result.llm_calls,
        "applied": None,
    }


def catalog_rotation_options(ctx: AppContext) -> list[RotationOption]:
    """The rotations triage may suggest, each with the catalog services it owns (the model sees them)."""
    return [RotationOption(r.name, tuple(s.name for s in ctx.config.services if s.owner == r.name))
            for r in ctx.config.rotations]


def incident_catalog(ctx: AppContext, bundle: ev.EvidenceBundle) -> list[ServiceOwner]:
    """The incident's catalog services (named at declare, by its alerts, in its title) with their owners."""
    found = services_for(bundle.incident.title or "", bundle.services, ctx.config.services)
    return [ServiceOwner(s.name, s.owner) for s in found]


def run_triage(ctx: AppContext, incident_id: int, *, trigger: str = "declare") -> int | None:
    """Gather evidence, suggest (LLM or heuristic), store and post in the incident channel. Returns the
    suggestion id; None if the incident does not exist, or if an automatic (declare/alert) suggestion says
    nothing the declarer did not (`says_something`)."""
    bundle = ev.gather(ctx, incident_id)
    if bundle is None:
        return None
    client = llm_client(ctx)
    result = triage(bundle.incident, bundle.items, ev.severity_options(ctx), catalog_rotation_options(ctx), client,
                    display_name=display_namer(ctx), default_severity=ctx.config.incidents.default_severity,
                    catalog=incident_catalog(ctx, bundle))
    record_usage(ctx, incident_id, "triage", client, result.usage, result.llm_calls)
    if bundle.source != "alert":  # a person chose this severity (alerts carry the sender's)
        result = keep_declared_severity(result, bundle.incident.severity, ev.severity_options(ctx),
                                        bundle.items)
    if trigger == "declare" and bundle.source == "alert":
        trigger = "alert"
    if trigger != "command" and not says_something(result, bundle.incident.severity, bundle.items):
        # Automatic suggestions that only repeat the declarer are noise; `/incident triage` still always answers.
        log.info("incident %s: %s triage suggestion adds nothing; not posted", incident_id, result.source)
        return None
    payload = triage_payload(ctx, bundle, result, client, trigger)
    suggestion_id = _store_suggestion(ctx, incident_id, "triage", result.source, payload, bundle.channel_id)
    with ctx.session() as s:
        incident = incident_store.get(s, incident_id)
    label = _incident_label(ctx, incident)
    ts = _post(ctx, bundle.channel_id, messages.triage_text(payload, label),
               messages.triage_blocks(suggestion_id, payload, label))
    _set_message_ts(ctx, suggestion_id, ts)
    log.info("incident %s: %s triage suggestion %s posted (%s)", incident.number, result.source, suggestion_id,
             result.note or "ok")
    return suggestion_id


def after_declare(ctx: AppContext, incident_id: int) -> threading.Thread:
    """The `after_declare` hook (Slack declares and incidents opened by alerts): triage on a background thread."""
    # A failure is only logged: the incident is already complete and a suggestion is optional.
    return ctx.background.start(f"assist-triage-{incident_id}", run_triage, ctx, incident_id,
                                failure=f"triage suggestion for incident {incident_id} failed")


def triage_command(ctx: AppContext, incident: Incident, cmd: Any, user: str, respond) -> None:
    """`/incident triage` (already acknowledged): a fresh suggestion in the channel."""
    try:
        run_triage(ctx, incident.id, trigger="command")
    except Exception:  # noqa: BLE001
        log.exception("triage for incident %s failed", incident.id)
        respond(response_type="ephemeral", text=":warning: The triage suggestion could not be posted; "
                "the incident is unaffected. Try again shortly.")


# -- Accept / Dismiss ----------------------------------------------------------------------------------------------

def _claim(ctx: AppContext, suggestion_id: int, status: str, user: str) -> tuple[SuggestionRecord | None, bool]:
    """Move a shown suggestion to `status` in one conditional UPDATE; (row, True) when this call decided it."""
    with ctx.session() as s:
        result = s.execute(
            update(SuggestionRecord)
            .where(col(SuggestionRecord.id) == suggestion_id, col(SuggestionRecord.status) == "shown",
                   col(SuggestionRecord.kind) == "triage")
            .values(status=status, decided_by=user, decided_at=utcnow())
        )
        changed = result.rowcount == 1
    with ctx.session() as s:
        row = s.get(SuggestionRecord, suggestion_id)
        if row is not None:
            s.expunge(row)
    return row, changed


def _unclaim(ctx: AppContext, suggestion_id: int, status: str) -> None:
    try:
        with ctx.session() as s:
            s.execute(update(SuggestionRecord)
                      .where(col(SuggestionRecord.id) == suggestion_id, col(SuggestionRecord.status) == status)
                      .values(status="shown", decided_by=None, decided_at=None))
    except Exception:  # noqa: BLE001
        log.exception("could not reopen suggestion %s", suggestion_id)


def _fill_message(row: SuggestionRecord | None, message: tuple[str | None, str | None] | None) -> None:
    """A click can arrive before the posting thread stored the message ts: use the clicked message then (only
    when it is in the suggestion's own channel)."""
    if row is None or not message or row.message_ts:
        return
    channel, ts = message
    if ts and channel and channel == row.channel_id:
        row.message_ts = ts


def _already(row: SuggestionRecord) -> str:
    return f"This suggestion was already {row.status} by {messages.user(row.decided_by)}; nothing was changed."


def _accept_refusal(ctx: AppContext, suggestion_id: int, user: str) -> str | None:
    """Why `user` may not accept the suggestion, or None when they may (admin, or participant of its incident)."""
    if user in ctx.config.admins:
        return None
    with ctx.session() as s:
        row = s.get(SuggestionRecord, suggestion_id)
        if row is None:
            return None  # answered as "no longer exists" by the caller
        incident = incident_store.get(s, row.incident_id)
        if incident is not None and incident_store.is_participant(s, incident, user):
            return None
    log.info("suggestion %s: accept by %s refused (not a participant or admin)", suggestion_id, user)
    return ("Only the incident's participants (reporter, invited responders, role holders) and admins can accept "
            "a triage suggestion, because accepting can page a rotation; nothing was changed.")


def accept(ctx: AppContext, suggestion_id: int, user: str,
           message: tuple[str | None, str | None] | None = None) -> tuple[bool, str]:
    """Apply a triage suggestion: its severity (if different) and a page to its owner's rotation (if any).
    `message` is the clicked message's (channel, ts), used if the stored one is not there yet.
    Returns (changed, text for the clicking user). Only the incident's participants and admins may accept: it
    can page a rotation."""
    refusal = _accept_refusal(ctx, suggestion_id, user)
    if refusal:
        return False, refusal
    row, changed = _claim(ctx, suggestion_id, "accepted", user)
    _fill_message(row, message)
    if row is None or row.kind != "triage":
        return False, "This suggestion no longer exists."
    if not changed:
        return False, _already(row)
    payload = dict(row.payload or {})
    suggestion = payload.get("suggestion") or {}
    applied: dict[str, Any] = {}
    severity = suggestion.get("severity")
    try:
        with ctx.session() as s:
            incident = incident_store.get(s, row.incident_id)
            before = incident.severity
            if severity not in ctx.config.incidents.severity_names:
                applied["severity_note"] = "severity not applied (not a configured severity)"
            elif incident.status == "resolved":
                applied["severity_note"] = "severity unchanged (the incident is resolved)"
            elif severity != before:
                incident_store.set_severity(s, incident, severity, actor=user)  # checked: differs from before
                applied["severity"] = [before, severity]
            incident_store.add_timeline(s, incident, "suggestion",
                                          f"Triage suggestion #{suggestion_id} ({payload.get('label', '')}) accepted",
                                          actor=user)
    except Exception:
        _unclaim(ctx, suggestion_id, "accepted")  # nothing was applied: the button works again
        raise
    if applied.get("severity"):
        try:
            incident_service.post_in_channel(ctx, incident, incident_messages.change_text(
                f"<@{user}> accepted the triage suggestion: severity {before.upper()} → *{severity.upper()}*"))
        except Exception as exc:  # noqa: BLE001 - the change is stored; the pinned summary shows it
            log.warning("could not announce the severity change: %s", slack_error_code(exc))
        incident_service.refresh_slack(ctx, incident.id)
    owner = suggestion.get("suggested_owner")
    if owner and incident.status == "resolved":
        applied["owner"], applied["page_error"] = owner, "not paged, the incident is resolved"
    elif owner:
        applied["owner"] = owner
        page_id, error = _page_owner(ctx, incident, owner, user, severity)
        if page_id is not None:
            applied["page_id"] = page_id
        else:
            applied["page_error"] = error
    payload["applied"] = applied
    with ctx.session() as s:
        fresh = s.get(SuggestionRecord, suggestion_id)
        fresh.payload = payload
        s.add(fresh)
    _update_message(ctx, row, payload, messages.decision_text("accepted", user, applied))
    return True, messages.decision_text("accepted", user, applied)


def _page_owner(ctx: AppContext, incident: Incident, owner: str, user: str,
                severity: str | None) -> tuple[int | None, str | None]:
    from bot.paging import flows as paging_flows
    from bot.paging import store as paging_store
    from bot.paging.messages import PageContent

    if ctx.config.rotation(owner) is None:
        return None, "not a configured rotation"
    label = _incident_label(ctx, incident)
    where = f" in #{incident.channel_name}" if incident.channel_name and not incident.private else ""
    # A page can reach an escalation channel, other people's DMs and PagerDuty: a private incident's page says
    # only its label; the paged person is invited to the channel, where the title is.
    title = f"{label}: private incident (details in its channel)" if incident.private else f"{label}: {incident.title}"
    content = PageContent(
        title=title[:300],
        details=f"A responder accepted the triage suggestion for {label}{where} and asked for {owner}.",
        severity=severity,
    )
    try:
        page_id = paging_flows.create_page(ctx, policy_name=paging_flows.policy_for_rotation(ctx, owner),
                                           content=content, requester=user, source="triage",
                                           channel_id=incident.channel_id, incident_id=incident.id)
    except Exception as exc:  # noqa: BLE001 - reported on the suggestion; the severity change stands
        log.exception("paging %s for incident %s failed", owner, incident.id)
        return None, type(exc).__name__
    try:  # the paged on-call joins the incident channel
        with ctx.session() as s:
            users = sorted({n.user_id for n in paging_store.notifications(s, page_id) if n.error is None})
        if users and incident.channel_id:
            with ctx.session() as s:  # the paged responders take part (and may accept later suggestions)
                inc = incident_store.get(s, incident.id)
                for u in users:
                    incident_store.add_participant(s, inc, u, "paged")
            ctx.slack.conversations_invite(channel=incident.channel_id, users=",".join(users))
    except Exception as exc:  # noqa: BLE001 - already_in_channel and friends
        log.info("invite of paged on-call to incident %s: %s", incident.id, exc)
    return page_id, None


def dismiss(ctx: AppContext, suggestion_id: int, user: str,
            message: tuple[str | None, str | None] | None = None) -> tuple[bool, str]:
    row, changed = _claim(ctx, suggestion_id, "dismissed", user)
    _fill_message(row, message)
    if row is None or row.kind != "triage":
        return False, "This suggestion no longer exists."
    if not changed:
        return False, _already(row)
    with ctx.session() as s:
        incident = incident_store.get(s, row.incident_id)
        incident_store.add_timeline(s, incident, "suggestion", f"Triage suggestion #{suggestion_id} dismissed",
                                      actor=user)
    text = messages.decision_text("dismissed", user)
    _update_message(ctx, row, row.payload or {}, text)
    return True, text


def _update_message(ctx: AppContext, row: SuggestionRecord, payload: dict[str, Any], decided: str) -> None:
    if not (row.channel_id and row.message_ts):
        return
    with ctx.session() as s:
        incident = incident_store.get(s, row.incident_id)
    label = _incident_label(ctx, incident)
    try:
        ctx.slack.chat_update(channel=row.channel_id, ts=row.message_ts, text=messages.triage_text(payload, label),
                              blocks=messages.triage_blocks(row.id, payload, label, decided=decided))
    except Exception as exc:  # noqa: BLE001 - the decision is stored; the message is cosmetic
        log.warning("could not update suggestion message %s: %s", row.id, slack_error_code(exc))


# -- RCA ---------------------------------------------------------------------------------------------------------

def rca_payload(bundle: ev.EvidenceBundle, result: RcaResult, client: LLMClient | None) -> dict[str, Any]:
    return {
        "label": messages.source_label(result.source, result.note),
        "source": result.source,
        "model": client.model if (client is not None and result.source == "llm") else None,
        "inconclusive": result.inconclusive,
        "summary": result.summary,
        "note": result.note,
        "hypotheses": [{"rank": h.rank, "statement": h.statement, "evidence_ids": list(h.evidence_ids),
                        "confidence": h.confidence, "confirm": h.confirm, "refute": h.refute,
                        "next_check": h.next_check} for h in result.hypotheses],
        "proposed": result.proposed,
        "dropped_hypotheses": result.dropped_hypotheses,
        "dropped_ids": result.dropped_ids,
        "evidence": bundle.refs,
        "similar": bundle.similar,
        "usage": _usage_dict(result.usage),
        "llm_calls": result.llm_calls,
    }


def evidence_holds(ctx: AppContext, item: Any, cache: dict[str, bool]) -> bool:
    """Whether a cited item still holds, by its kind's checker (`ctx.services.evidence_checkers`); kinds without a
    checker are stored records (alerts, changes, timeline) and hold. A failing checker counts as not holding."""
    checker = ctx.services.evidence_checkers.get(item.kind)
    if checker is None:
        return True
    if item.id not in cache:
        try:
            cache[item.id] = bool(checker(ctx, item))
        except Exception:  # noqa: BLE001 - unverifiable evidence is withheld, never shown as fact
            log.exception("re-checking evidence %s (%s) failed", item.id, item.kind)
            cache[item.id] = False
    return cache[item.id]


def recheck_citations(ctx: AppContext, bundle: ev.EvidenceBundle, result: RcaResult) -> RcaResult:
    """Drop every hypothesis citing evidence that no longer holds (its query re-run), before anything is shown."""
    by_id = {item.id: item for item in bundle.items}
    cache: dict[str, bool] = {}
    kept = [h for h in result.hypotheses
            if all(evidence_holds(ctx, by_id[i], cache) for i in h.evidence_ids if i in by_id)]
    withheld = len(result.hypotheses) - len(kept)
    if not withheld:
        return result
    note = f"{withheld} hypothesis(es) withheld: cited evidence no longer holds when re-checked"
    return replace(result, hypotheses=[replace(h, rank=n) for n, h in enumerate(kept, start=1)],
                   inconclusive=result.inconclusive or not kept, dropped_hypotheses=result.dropped_hypotheses + withheld,
                   note="; ".join(filter(None, [result.note, note])))


def run_rca(ctx: AppContext, incident_id: int) -> int | None:
    bundle = ev.gather(ctx, incident_id)
    if bundle is None:
        return None
    client = llm_client(ctx)
    result = rca(bundle.incident, bundle.items, client, display_name=display_namer(ctx))
    record_usage(ctx, incident_id, "rca", client, result.usage, result.llm_calls)
    result = recheck_citations(ctx, bundle, result)
    payload = rca_payload(bundle, result, client)
    suggestion_id = _store_suggestion(ctx, incident_id, "rca", result.source, payload, bundle.channel_id)
    with ctx.session() as s:
        incident = incident_store.get(s, incident_id)
    label = _incident_label(ctx, incident)
    ts = _post(ctx, bundle.channel_id, messages.rca_text(payload, label),
               messages.rca_blocks(payload, label, suggestion_id=suggestion_id))
    _set_message_ts(ctx, suggestion_id, ts)
    return suggestion_id


def rca_command(ctx: AppContext, incident: Incident, cmd: Any, user: str, respond) -> None:
    """`/incident rca` (already acknowledged): ranked hypotheses posted in the channel."""
    try:
        run_rca(ctx, incident.id)
    except Exception:  # noqa: BLE001
        log.exception("RCA for incident %s failed", incident.id)
        respond(response_type="ephemeral", text=":warning: Root-cause suggestions could not be posted; "
                "the incident is unaffected. Try again shortly.")


# -- change events -------------------------------------------------------------------------------------------------

class ChangeError(ValueError):
    """A change event that cannot be stored as given (400)."""


def record_change(ctx: AppContext, event: ChangeEvent) -> int:
    """Store one validated change event; returns its id."""
    if event.url and len(event.url) > 500:
        raise ChangeError("url: at most 500 characters")
    for name in ("version", "author"):
        if len(getattr(event, name) or "") > 120:
            raise ChangeError(f"{name}: at most 120 characters")
    with ctx.session() as s:
        row = ChangeEventRecord(service=event.service, version=event.version or None, author=event.author or None,
                                description=event.description or "", url=event.url, timestamp=event.timestamp)
        s.add(row)
        s.flush()
        return row.id
