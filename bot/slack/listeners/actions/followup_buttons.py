"""The update nudge's "Post update" button and the modal it opens."""

from __future__ import annotations

import logging

from slack_bolt import App

from bot.context import AppContext
from bot.core.numbers import small_int
from bot.core.slack_errors import slack_error_code
from bot.followups import messages, service
from bot.incidents import store as incidents
from bot.incidents.messages import incident_label

log = logging.getLogger(__name__)


def register(app: App, ctx: AppContext, _once=None) -> None:
    @app.action(messages.POST_UPDATE_ACTION)
    def handle_post_update_button(ack, body, action, client, respond):
        ack()
        incident_id = small_int(action.get("value"))
        with ctx.session() as s:
            incident = incidents.get(s, incident_id) if incident_id is not None else None
        if incident is None:
            respond(response_type="ephemeral", replace_original=False, text=":warning: This incident no longer exists.")
            return
        try:
            client.views_open(trigger_id=body["trigger_id"],
                              view=messages.post_update_modal(incident.id, incident_label(incident, ctx.prefix)))
        except Exception as exc:  # noqa: BLE001 - an expired trigger: say what to do instead
            log.warning("post-update modal: %s", slack_error_code(exc))
            respond(response_type="ephemeral", replace_original=False,
                    text=":warning: The form could not open; use `/incident update <text>` instead.")

    @app.view(messages.POST_UPDATE_VIEW)
    def handle_post_update_submission(ack, body, view):
        incident_id = small_int(view.get("private_metadata"))
        text = ((view["state"]["values"].get("update") or {}).get("text") or {}).get("value") or ""
        user = body["user"]["id"]
        refusal = "This incident no longer exists." if incident_id is None else \
            service.update_refusal(ctx, incident_id, user, text)
        if refusal:
            ack(response_action="errors", errors={"update": refusal})
            return
        ack()
        service.post_update(ctx, incident_id, user, text)
