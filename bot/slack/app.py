"""Builds the slack-bolt App: one Web API client, signature checks, event de-duplication, the global error
handler, and every listener module's `register`."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltResponse

from bot.context import AppContext
from bot.correlation import current_correlation_id, new_correlation_id
from bot.incidents import service
from bot.slack.listeners.commands import incident as incident_command
from bot.slack.listeners.events import reactions
from bot.slack.listeners.views import declare as declare_view
from bot.slack.respond import tell_user

log = logging.getLogger(__name__)


def build_app(ctx: AppContext, *, extra_registrations=()) -> App:
    """The Slack app for `ctx`. In tests and the demo `ctx.slack` points at the local stand-in."""
    app = App(
        client=ctx.slack,
        signing_secret=ctx.settings.slack_signing_secret or "socket-mode-does-not-sign",
        # Socket Mode requests are not signed; HTTP requests always are.
        request_verification_enabled=bool(ctx.settings.slack_signing_secret),
        token_verification_enabled=True,
        process_before_response=False,
        # Listeners run after the ack on this pool. Bolt's default is 5 workers; a rate-limited Slack call sleeps
        # in its worker (honouring Retry-After), so a larger pool keeps one slow incident from queueing others.
        listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="slack-listener"),
    )

    @app.middleware
    def correlate(next):
        new_correlation_id()
        return next()

    def once_per_event(body, next):
        """Events API retries repeat `event_id`; handle each delivery once, even when two arrive together."""
        event_id = body.get("event_id")
        if event_id:
            with ctx.session() as s:
                first = service.claim_event(s, event_id)
            if not first:
                log.info("duplicate delivery of %s ignored", event_id)
                return BoltResponse(status=200, body="")
        return next()

    @app.error
    def on_error(error, body, respond, client):
        cid = current_correlation_id() or new_correlation_id()
        log.error("error handling Slack request [%s]: %s", cid, error, exc_info=error)
        user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else body.get("user_id")
        channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
        text = (f":warning: Sorry, something went wrong (ref `{cid}`). Nothing you entered was lost; try again, "
                "or ask an admin to look up the reference in the logs.")
        has_response_url = bool(body.get("response_url") or body.get("response_urls"))
        tell_user(respond=respond if has_response_url else None, client=client, channel=channel, user=user, text=text)

    incident_command.register(app, ctx)
    declare_view.register(app, ctx)
    reactions.register(app, ctx, once_per_event)
    for register in extra_registrations:
        register(app, ctx, once_per_event)
    return app
