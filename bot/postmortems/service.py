"""Draft, store and publish postmortems for incidents in the database, and tell Slack about it.

- `draft(ctx, incident_id)`: facts from the database -> Markdown (the team's template) -> blameless lint -> stored in
  `PostmortemRecord` (one per incident, updated in place). Deterministic: the same record gives the same document.
  With an LLM configured (`ctx.services.llm`), each draft asks the model for the narrative sections
  (`bot.assist.domain.draft_narrative`: redacted facts in, blameless-checked prose out, marked as draft text in the document)
  and stores it in `PostmortemRecord.narrative`; token usage goes to `LLMUsageRecord` (purpose "postmortem"). A model
  failure never breaks drafting: the draft keeps the prompts for the authors and the Slack note says why.
- `publish_incident(ctx, incident_id)`: refreshes the draft (so Slack and `firewatch postmortem publish` publish
  the same document, with every fact recorded up to now; the stored narrative is reused, the model is not asked
  again), publishes it with `bot.postmortems.publish`, stores
  path/branch/commit/PR or the error, and posts the link in the incident channel and the announcement thread.
  The draft is written before publishing starts, so a failed publish never loses it.
- `draft_and_publish(ctx, incident_id)`: both, with the Slack notes (what the demo calls).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.context import AppContext
from bot.incidents import store as incidents
from bot.core.slack_errors import slack_error_code
from bot.incidents.messages import incident_label
from bot.incidents.visibility import announcement_allowed
from bot.postmortems.domain.facts import PostmortemFacts
from bot.postmortems.domain.linter import Finding, lint
from bot.postmortems.publishing import PublishError, PublishResult, publish
from bot.postmortems.domain.render import FACT_ONLY_SECTIONS, SECTION_KEYS, render_markdown
from bot.postmortems import messages
from bot.postmortems.store import load_incident_facts, slack_available
from storage.models import Incident, LLMUsageRecord, PostmortemRecord
from storage.types import utcnow

log = logging.getLogger(__name__)


class NotConfigured(PublishError):
    """`postmortems.repo` is not set: there is nowhere to publish to."""


class PrivateIncident(PublishError):
    """The incident is private and `postmortems.publish_private` is off: the draft stays in Firewatch."""


@dataclass
class DraftOutcome:
    record: PostmortemRecord
    facts: PostmortemFacts
    markdown: str
    findings: list[Finding]
    created: bool  # False: an existing draft was updated
    narrative: dict[str, str] = field(default_factory=dict)  # section key -> model-drafted text in the document
    narrative_note: str = ""  # why there is no (or only a partial) model narrative; "" when nothing to say
    llm_configured: bool = False


class Published(NamedTuple):
    record: PostmortemRecord
    findings: list[Finding]
    result: PublishResult


def get_record(ctx: AppContext, incident_id: int) -> PostmortemRecord | None:
    with ctx.session() as s:
        return s.exec(select(PostmortemRecord).where(PostmortemRecord.incident_id == incident_id)).first()


def _incident(ctx: AppContext, incident_id: int) -> Incident:
    with ctx.session() as s:
        incident = incidents.get(s, incident_id)
    if incident is None:
        raise LookupError(f"no incident with id {incident_id}")
    return incident


_KEEP = object()  # `_store_draft(narrative=_KEEP)`: leave the stored narrative as it is


def _store_draft(ctx: AppContext, incident_id: int, markdown: str, findings: list[Finding],
                 actor: str | None, narrative: Any = _KEEP) -> tuple[PostmortemRecord, bool]:
    """Insert or update the incident's one PostmortemRecord (a concurrent first draft is merged, not duplicated)."""
    now = utcnow()
    data = [f.to_dict() for f in findings]
    for _ in range(2):
        with ctx.session() as s:
            row = s.exec(select(PostmortemRecord).where(PostmortemRecord.incident_id == incident_id)).first()
            created = row is None
            if created:
                row = PostmortemRecord(incident_id=incident_id, markdown=markdown, findings=data, updated_at=now,
                                       narrative=None if narrative is _KEEP else narrative)
                try:
                    with s.begin_nested():
                        s.add(row)
                except IntegrityError:
                    continue  # another draft of the same incident was inserted meanwhile: update that one
            else:
                row.markdown, row.findings, row.updated_at = markdown, data, now
                if narrative is not _KEEP:
                    row.narrative = narrative
                s.add(row)
            s.flush()
            incidents.audit(s, actor=actor, entity="postmortem", entity_id=row.id,
                            action="draft" if created else "redraft",
                            after={"incident_id": incident_id, "findings": len(findings)})
            return row, created
    raise RuntimeError(f"could not store the postmortem draft of incident {incident_id}")


def _llm(ctx: AppContext) -> Any | None:
    """The configured `bot.assist.domain.LLMClient`, or None (not configured, or the LLM feature is not installed)."""
    client = ctx.services.llm
    if client is None:
        return None
    from bot.assist.llm_client import LLMClient  # lazy: the CLI's render path does not need the openai SDK

    return client if isinstance(client, LLMClient) else None


def _record_usage(ctx: AppContext, incident_id: int, client: Any, usage: Any, calls: int) -> None:
    """One LLMUsageRecord per narrative draft that called the model (token counts may be None)."""
    if calls <= 0:
        return
    try:
        with ctx.session() as s:
            s.add(LLMUsageRecord(incident_id=incident_id, purpose="postmortem",
                                 model=(getattr(client, "model", "") or "")[:120] or None,
                                 prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                                 total_tokens=usage.total_tokens))
    except Exception:  # noqa: BLE001 - accounting must not lose the draft
        log.exception("could not record LLM usage for the postmortem of incident %s", incident_id)


def _draft_narrative(ctx: AppContext, incident_id: int, facts: PostmortemFacts) -> tuple[dict[str, Any] | None, str]:
    """Ask the model for the narrative (outside any database session: it may take a while). Returns what to store
    in `PostmortemRecord.narrative` (None: no model configured) and a note. Never raises."""
    client = _llm(ctx)
    if client is None:
        return None, ""
    try:
        from bot.postmortems.domain.narrative import draft_narrative

        result = draft_narrative(facts, client)
    except Exception:  # noqa: BLE001 - draft_narrative never raises; belt and braces for drafting
        log.exception("incident %s: drafting the postmortem narrative failed", incident_id)
        return {"sections": {}, "source": "none", "model": client.model, "note": "internal error"}, \
            "the model could not draft the narrative (internal error)"
    _record_usage(ctx, incident_id, client, result.usage, result.llm_calls)
    stored = {"sections": dict(result.sections), "source": result.source, "model": client.model, "note": result.note,
              "problems": list(result.problems)[:20], "drafted_at": utcnow().isoformat()}
    return stored, result.note


def stored_sections(narrative: dict[str, Any] | None) -> dict[str, str]:
    """The section texts of a stored narrative, limited to the keys `render_markdown` accepts."""
    sections = (narrative or {}).get("sections") if isinstance(narrative, dict) else None
    if not isinstance(sections, dict):
        return {}
    return {k: v for k, v in sections.items()
            if k in SECTION_KEYS and k not in FACT_ONLY_SECTIONS and isinstance(v, str) and v.strip()}


def draft(ctx: AppContext, incident_id: int, *, actor: str | None = None,
          narrative: Literal["regenerate", "reuse"] = "regenerate") -> DraftOutcome:
    """Build the draft from the database, lint it and store it. Raises LookupError for an unknown incident and
    ValueError for a broken custom template.

    `narrative="regenerate"` (a draft: `/incident postmortem`, auto-draft on resolve) asks the configured model for
    the narrative sections and stores them; `"reuse"` (a publish) renders the stored narrative and never calls the
    model, so re-publishing gives the same document."""
    config = ctx.config.postmortems
    facts = load_incident_facts(ctx, incident_id)
    note = ""
    if narrative == "regenerate":
        stored, note = _draft_narrative(ctx, incident_id, facts)
    else:
        record = get_record(ctx, incident_id)
        stored = record.narrative if record is not None else None
    sections = stored_sections(stored)
    markdown = render_markdown(facts, narrative=sections or None, template=config.template)
    findings = lint(markdown, extra_rules=config.extra_rules)
    record, created = _store_draft(ctx, incident_id, markdown, findings, actor,
                                   stored if narrative == "regenerate" else _KEEP)
    return DraftOutcome(record=record, facts=facts, markdown=markdown, findings=findings, created=created,
                        narrative=sections, narrative_note=note, llm_configured=_llm(ctx) is not None)


def _github_web_host(api_url: str) -> str | None:
    from urllib.parse import urlparse

    host = urlparse(api_url).hostname
    if host is None:
        return None
    return host[4:] if host.startswith("api.") else host


def link_for(ctx: AppContext, result: PublishResult) -> str | None:
    gh = ctx.config.postmortems.github
    return messages.document_link(result, gh.repo, _github_web_host(gh.api_url))


def _record_result(ctx: AppContext, incident_id: int, result: PublishResult | None, error: str | None,
                   actor: str | None) -> PostmortemRecord:
    with ctx.session() as s:
        row = s.exec(select(PostmortemRecord).where(PostmortemRecord.incident_id == incident_id)).one()
        if result is not None:
            row.path, row.branch, row.commit_sha = result.path, result.branch, result.commit_sha
            row.pr_url = result.pr_url or row.pr_url
            row.published_at = utcnow()
        row.publish_error = error
        s.add(row)
        s.flush()
        incidents.audit(s, actor=actor, entity="postmortem", entity_id=row.id,
                        action="publish_failed" if error else "publish",
                        after={"incident_id": incident_id, "path": row.path, "branch": row.branch,
                               "commit": row.commit_sha, "error": error})
        return row


def publish_incident(ctx: AppContext, incident_id: int, *, workdir: str | Path | None = None,
                     actor: str | None = None, notify: bool = True) -> Published:
    """Refresh the draft, publish it and record where it went (or why it failed). With `notify`, post the link in the
    incident channel and the announcement thread. Raises PublishError (NotConfigured without `postmortems.repo`)
    after recording it; the draft is stored either way."""
    outcome = draft(ctx, incident_id, actor=actor, narrative="reuse")
    return publish_draft(ctx, outcome, workdir=workdir, actor=actor, notify=notify)


def publish_draft(ctx: AppContext, outcome: DraftOutcome, *, workdir: str | Path | None = None,
                  actor: str | None = None, notify: bool = True) -> Published:
    """Publish a draft `draft()` just stored (see `publish_incident`)."""
    config = ctx.config.postmortems
    incident_id = outcome.record.incident_id
    if not config.repo:
        error = "postmortems.repo is not configured; set it in firewatch.yaml to a git URL or a local path"
        _record_result(ctx, incident_id, None, error, actor)
        raise NotConfigured(error, findings=outcome.findings)
    if _incident(ctx, incident_id).private and not config.publish_private:
        error = ("the incident is private, so its postmortem is not pushed to the shared repository; set "
                 "postmortems.publish_private: true to allow it")
        _record_result(ctx, incident_id, None, error, actor)
        raise PrivateIncident(error, findings=outcome.findings)
    try:
        result = publish(config, outcome.facts, outcome.markdown, workdir)
    except PublishError as exc:
        _record_result(ctx, incident_id, exc.partial, str(exc), actor)
        raise
    record = _record_result(ctx, incident_id, result, None, actor)
    if notify:
        announce_published(ctx, incident_id, result, outcome.findings)
    return Published(record=record, findings=outcome.findings, result=result)


def announce_published(ctx: AppContext, incident_id: int, result: PublishResult, findings: list[Finding]) -> None:
    """Post the link in the incident channel and, as a thread reply, under the announcement. Best-effort: the
    publish already happened and is recorded."""
    if not slack_available(ctx):
        return
    incident = _incident(ctx, incident_id)
    text = messages.published_text(incident_label(incident, ctx.prefix), result, link_for(ctx, result), findings,
                                   base=ctx.config.postmortems.branch)
    targets = []
    if incident.channel_id:
        targets.append({"channel": incident.channel_id})
    if announcement_allowed(ctx.config, incident):  # a private incident: its own announcements channel only
        targets.append({"channel": incident.announcement_channel, "thread_ts": incident.announcement_ts})
    for target in targets:
        try:
            ctx.slack.chat_postMessage(text=text, unfurl_links=False, **target)
        except Exception as exc:  # noqa: BLE001
            log.warning("incident %s: could not post the postmortem link to %s: %s", incident.number,
                        target["channel"], slack_error_code(exc))


def announce_draft(ctx: AppContext, outcome: DraftOutcome, *, user: str | None, auto: bool) -> None:
    """The in-channel note that a draft exists (sections, findings count, next step)."""
    if not slack_available(ctx):
        return
    incident = _incident(ctx, outcome.record.incident_id)
    if not incident.channel_id:
        return
    text = messages.draft_text(
        incident_label(incident, ctx.prefix), number=incident.number, updated=not outcome.created,
        timeline_count=len(outcome.facts.timeline), action_items=len(outcome.facts.follow_ups),
        findings=outcome.findings, repo_configured=bool(ctx.config.postmortems.repo), user=user, auto=auto,
        narrative_sections=len(outcome.narrative), llm_configured=outcome.llm_configured,
        narrative_note=outcome.narrative_note)
    try:
        ctx.slack.chat_postMessage(channel=incident.channel_id, text=text)
    except Exception as exc:  # noqa: BLE001
        log.warning("incident %s: could not post the postmortem draft note: %s", incident.number, slack_error_code(exc))


def draft_and_announce(ctx: AppContext, incident_id: int, *, user: str | None = None, auto: bool = False) -> DraftOutcome:
    outcome = draft(ctx, incident_id, actor=user)
    announce_draft(ctx, outcome, user=user, auto=auto)
    return outcome


def draft_and_publish(ctx: AppContext, incident_id: int, *, workdir: str | Path | None = None,
                      user: str | None = None) -> Published:
    """Draft (announced in the channel), lint and publish; returns (record, findings, result).

    `result.path` is the document's path in the repository, `record.commit_sha` the commit. Raises PublishError
    (recorded in the PostmortemRecord, draft kept) when publishing fails."""
    outcome = draft_and_announce(ctx, incident_id, user=user)
    return publish_draft(ctx, outcome, workdir=workdir, actor=user)
