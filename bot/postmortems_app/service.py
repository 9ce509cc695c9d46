"""Draft, store and publish postmortems for incidents in the database, and tell Slack about it.

- `draft(ctx, incident_id)`: facts from the database -> Markdown (the team's template) -> blameless lint -> stored in
  `PostmortemRecord` (one per incident, updated in place). Deterministic: the same record gives the same document.
- `publish_incident(ctx, incident_id)`: refreshes the draft (so Slack and `firewatch postmortem publish` publish
  the same document, with every fact recorded up to now), publishes it with `bot.postmortems.publish`, stores
  path/branch/commit/PR or the error, and posts the link in the incident channel and the announcement thread.
  The draft is written before publishing starts, so a failed publish never loses it.
- `draft_and_publish(ctx, incident_id)`: both, with the Slack notes (what the demo calls).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.context import AppContext
from bot.incidents import service as incidents
from bot.incidents.flows import slack_error
from bot.incidents.messages import incident_label
from bot.postmortems.facts import PostmortemFacts
from bot.postmortems.linter import Finding, lint
from bot.postmortems.publishing import PublishError, PublishResult, publish
from bot.postmortems.render import render_markdown
from bot.postmortems_app import messages
from bot.postmortems_app.facts import load_incident_facts, slack_available
from storage.models import Incident, PostmortemRecord
from storage.types import utcnow

log = logging.getLogger(__name__)


class NotConfigured(PublishError):
    """`postmortems.repo` is not set: there is nowhere to publish to."""


@dataclass
class DraftOutcome:
    record: PostmortemRecord
    facts: PostmortemFacts
    markdown: str
    findings: list[Finding]
    created: bool  # False: an existing draft was updated


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


def _store_draft(ctx: AppContext, incident_id: int, markdown: str, findings: list[Finding],
                 actor: str | None) -> tuple[PostmortemRecord, bool]:
    """Insert or update the incident's one PostmortemRecord (a concurrent first draft is merged, not duplicated)."""
    now = utcnow()
    data = [f.to_dict() for f in findings]
    for _ in range(2):
        with ctx.session() as s:
            row = s.exec(select(PostmortemRecord).where(PostmortemRecord.incident_id == incident_id)).first()
            created = row is None
            if created:
                row = PostmortemRecord(incident_id=incident_id, markdown=markdown, findings=data, updated_at=now)
                try:
                    with s.begin_nested():
                        s.add(row)
                except IntegrityError:
                    continue  # another draft of the same incident was inserted meanwhile: update that one
            else:
                row.markdown, row.findings, row.updated_at = markdown, data, now
                s.add(row)
            s.flush()
            incidents.audit(s, actor=actor, entity="postmortem", entity_id=row.id,
                            action="draft" if created else "redraft",
                            after={"incident_id": incident_id, "findings": len(findings)})
            return row, created
    raise RuntimeError(f"could not store the postmortem draft of incident {incident_id}")


def draft(ctx: AppContext, incident_id: int, *, actor: str | None = None) -> DraftOutcome:
    """Build the draft from the database, lint it and store it. Raises LookupError for an unknown incident and
    ValueError for a broken custom template."""
    config = ctx.config.postmortems
    facts = load_incident_facts(ctx, incident_id)
    markdown = render_markdown(facts, template=config.template)
    findings = lint(markdown, extra_rules=config.extra_rules)
    record, created = _store_draft(ctx, incident_id, markdown, findings, actor)
    return DraftOutcome(record=record, facts=facts, markdown=markdown, findings=findings, created=created)


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
    return publish_draft(ctx, draft(ctx, incident_id, actor=actor), workdir=workdir, actor=actor, notify=notify)


def publish_draft(ctx: AppContext, outcome: DraftOutcome, *, workdir: str | Path | None = None,
                  actor: str | None = None, notify: bool = True) -> Published:
    """Publish a draft `draft()` just stored (see `publish_incident`)."""
    config = ctx.config.postmortems
    incident_id = outcome.record.incident_id
    if not config.repo:
        error = "postmortems.repo is not configured; set it in firewatch.yaml to a git URL or a local path"
        _record_result(ctx, incident_id, None, error, actor)
        raise NotConfigured(error, findings=outcome.findings)
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
    text = messages.published_text(incident_label(incident, ctx.prefix), result, link_for(ctx, result), findings)
    targets = []
    if incident.channel_id:
        targets.append({"channel": incident.channel_id})
    if incident.announcement_channel and incident.announcement_ts:
        targets.append({"channel": incident.announcement_channel, "thread_ts": incident.announcement_ts})
    for target in targets:
        try:
            ctx.slack.chat_postMessage(text=text, unfurl_links=False, **target)
        except Exception as exc:  # noqa: BLE001
            log.warning("incident %s: could not post the postmortem link to %s: %s", incident.number,
                        target["channel"], slack_error(exc))


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
        findings=outcome.findings, repo_configured=bool(ctx.config.postmortems.repo), user=user, auto=auto)
    try:
        ctx.slack.chat_postMessage(channel=incident.channel_id, text=text)
    except Exception as exc:  # noqa: BLE001
        log.warning("incident %s: could not post the postmortem draft note: %s", incident.number, slack_error(exc))


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
