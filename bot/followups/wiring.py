"""Follow-through in the running app (installed by `bot.app`).

Adds to `ctx.services`:
* `incident_commands["followup"]` (records the follow-up and opens its GitHub/Jira issue), `["followups"]` (open
  follow-ups with owner and age) and `["catchup"]` (an ephemeral summary from the timeline);
* leader tasks: the upstream status sync of tracker issues (`followups.sync_every`) and the update nudges
  (`incidents.update_reminder`), checked every minute; overdue follow-up reminders (`followups.sla`), hourly;
  published postmortems bookmarked in their incident channels, every minute;
* routes `POST /webhooks/github` and `POST /webhooks/jira` (upstream close/reopen, see `bot.followups.routes`);
* an after-declare hook: the named service's on-call is invited, runbook/dashboards/video bridge bookmarked.
The "Post update" button is in `bot.slack.listeners.actions.followup_buttons`.
"""

from __future__ import annotations

from bot.context import AppContext
from bot.followups import bookmarks, routes, service

NUDGE_CHECK_SECONDS = 60.0
OVERDUE_CHECK_SECONDS = 3600.0


def install(ctx: AppContext) -> None:
    services = ctx.services
    services.incident_commands["followup"] = service.followup_command
    services.incident_commands["followups"] = service.followups_command
    services.incident_commands["catchup"] = service.catchup_command
    services.routes += routes.webhook_routes(ctx)
    services.after_declare.append(bookmarks.on_declare)
    if services.scheduler is None:
        return
    services.scheduler.add_leader_task("followup-sync", lambda: service.run_job("followup-sync", service.sync_issues, ctx),
                                       every=ctx.config.followups.sync_seconds)
    services.scheduler.add_leader_task(
        "postmortem-bookmarks", lambda: service.run_job("postmortem-bookmarks", bookmarks.bookmark_postmortems, ctx),
        every=NUDGE_CHECK_SECONDS)
    if ctx.config.followups.sla:
        services.scheduler.add_leader_task("followup-overdue",
                                           lambda: service.run_job("followup-overdue", service.remind_overdue, ctx),
                                           every=OVERDUE_CHECK_SECONDS)
    if ctx.config.incidents.update_reminder:
        services.scheduler.add_leader_task("update-nudges",
                                           lambda: service.run_job("update-nudges", service.nudge_updates, ctx),
                                           every=NUDGE_CHECK_SECONDS)
