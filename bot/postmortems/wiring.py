"""Postmortems in the running app.

- `/incident postmortem` drafts (or refreshes) the postmortem from the incident record, stores it and lints it;
  `/incident postmortem publish` publishes it to `postmortems.repo`.
- With `postmortems.auto_draft: true`, resolving an incident drafts it on a background thread.
- `bot.postmortems.load_facts` reads this app's database while the app runs (restored on stop).
"""

from __future__ import annotations

import logging

from bot.context import AppContext
from bot.core.slack_errors import slack_error_code
from bot.incidents.messages import incident_label
from bot.postmortems.domain.facts import set_facts_loader
from bot.postmortems.publishing import LintBlocked, PublishError
from bot.postmortems import messages, service
from bot.postmortems.store import make_loader
from bot.safety import neutralize_mentions
from storage.models import Incident

log = logging.getLogger(__name__)


def install(ctx: AppContext) -> None:
    services = ctx.services
    services.incident_commands["postmortem"] = handle_command
    services.postmortem_draft_and_publish = service.draft_and_publish
    if ctx.config.postmortems.auto_draft:
        services.after_resolve.append(auto_draft_on_resolve)
    loader = make_loader(ctx)
    previous = set_facts_loader(loader)

    def restore() -> None:
        from bot.postmortems.domain import facts as facts_module

        if facts_module._loader is loader:  # only undo our own wiring
            set_facts_loader(previous)

    services.on_stop.append(restore)


def _ephemeral(respond, text: str) -> None:
    try:
        respond(response_type="ephemeral", text=text)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not reply: %s", exc)


def handle_command(ctx: AppContext, incident: Incident, cmd, user: str, respond) -> None:
    """`/incident postmortem [draft|publish|help]` in an incident channel."""
    action = " ".join(str(cmd.args.get("text") or "").split()).lower()
    if action in ("", "draft"):
        _draft(ctx, incident, user, respond)
    elif action == "publish":
        _publish(ctx, incident, user, respond)
    elif action == "help":
        _ephemeral(respond, messages.USAGE)
    else:
        _ephemeral(respond, f":warning: Unknown postmortem command `{neutralize_mentions(action[:50])}`.\n\n{messages.USAGE}")


def _draft(ctx: AppContext, incident: Incident, user: str, respond) -> None:
    label = incident_label(incident, ctx.prefix)
    try:
        outcome = service.draft_and_announce(ctx, incident.id, user=user)
    except ValueError as exc:  # a broken custom template
        _ephemeral(respond, f":x: Could not draft the postmortem for {label}: {neutralize_mentions(str(exc))[:500]}")
        return
    _ephemeral(respond, messages.findings_text(outcome.findings))


def _publish(ctx: AppContext, incident: Incident, user: str, respond) -> None:
    label = incident_label(incident, ctx.prefix)
    if ctx.config.postmortems.repo:
        _ephemeral(respond, f":hourglass_flowing_sand: Publishing the postmortem for {label}…")
    try:
        # On success the link is posted in the incident channel (where the command was typed) and the announcement.
        service.publish_incident(ctx, incident.id, actor=user)
    except service.NotConfigured:
        _ephemeral(respond, messages.publish_failed_text(label, "", not_configured=True))
    except LintBlocked as exc:
        _ephemeral(respond, messages.publish_failed_text(label, str(exc)) + "\n" + messages.findings_text(exc.findings))
    except PublishError as exc:
        _ephemeral(respond, messages.publish_failed_text(label, str(exc)))
    except ValueError as exc:  # a broken custom template
        _ephemeral(respond, f":x: Could not draft the postmortem for {label}: {neutralize_mentions(str(exc))[:500]}")


def auto_draft_on_resolve(ctx: AppContext, incident_id: int) -> None:
    """`after_resolve` hook: draft on a background thread, so resolving never waits for it."""

    def run() -> None:
        try:
            service.draft_and_announce(ctx, incident_id, auto=True)
        except Exception as exc:  # noqa: BLE001 - a draft failure must not affect the resolved incident
            log.exception("auto-draft of the postmortem for incident %s failed: %s", incident_id, slack_error_code(exc))

    ctx.background.start(f"postmortem-draft-{incident_id}", run)
