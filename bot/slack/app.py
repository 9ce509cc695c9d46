"""Builds the slack-bolt App: one Web API client, signature checks, event de-duplication, the global error
handler, and every listener (`bot.slack.listeners.register_all`)."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware.request_verification import RequestVerification
from sqlalchemy.exc import DataError

from bot.context import AppContext
from bot.correlation import ContextCopyingExecutor, new_correlation_id
from bot.http.database import DATABASE_UNAVAILABLE_TEXT, is_database_unavailable
from bot.incidents import store
from bot.slack.listeners import register_all
from bot.safety import install_log_hygiene
from bot.slack.respond import is_slack_response_url, tell_user

log = logging.getLogger(__name__)
VERIFIED = "firewatch_verified"
"""Context key the HTTP edge sets on a request whose signature it checked (bot.web)."""


def _quiet_request_verification(app: App) -> None:
    """Bolt logs the whole body of a request it refuses, at INFO: log the fact and the size only."""
    for middleware in app._middleware_list:
        if isinstance(middleware, RequestVerification):
            middleware._debug_log_error = lambda _signature, _timestamp, body: log.info(
                "Slack request with an invalid signature refused (%d bytes, body not logged)", len(body or ""))


def is_verified(request: BoltRequest | None) -> bool:
    """Socket Mode traffic is authenticated by the socket; HTTP traffic only when the edge checked its signature."""
    if request is None:
        return False
    return request.mode == "socket_mode" or bool(request.context.get(VERIFIED))


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
        # Tasks run in a copy of the request's context: the listener logs and shows its own correlation id.
        listener_executor=ContextCopyingExecutor(max_workers=16, thread_name_prefix="slack-listener"),
    )
    install_log_hygiene()
    _quiet_request_verification(app)

    @app.middleware
    def correlate(next):
        new_correlation_id()
        return next()

    once_per_event = once_per_event_for(ctx)

    @app.error
    def on_error(error, body, request, respond, client):
        report_error(ctx, error, body, request, respond, client)

    register_all(app, ctx, once_per_event)
    # Tests add their own probe listeners here.
    for register in extra_registrations:
        register(app, ctx, once_per_event)
    return app


def once_per_event_for(ctx: AppContext):
    """A listener middleware: Events API retries repeat `event_id`; handle each delivery once, even when two arrive
    together."""

    def once_per_event(body, next):
        event_id = body.get("event_id")
        if event_id:
            with ctx.session() as s:
                first = store.claim_event(s, event_id)
            if not first:
                log.info("duplicate delivery of %s ignored", event_id)
                return BoltResponse(status=200, body="")
        return next()

    return once_per_event


def report_error(ctx: AppContext, error, body, request, respond, client) -> None:
    """Bolt's global error handler: log with a fresh reference and tell the person, only on verified requests."""
    # A fresh reference each time: listener threads are pooled, so a context's id may belong to an older request.
    cid = new_correlation_id()
    if not is_verified(request):
        # Nothing in an unverified request is acted on or echoed: no reply, no DM, no response_url.
        log.warning("error on an unverified Slack request [%s] ignored: %s", cid, error.__class__.__name__)
        return
    text = _error_text(error, cid)
    body = body if isinstance(body, dict) else {}
    user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else body.get("user_id")
    channel = body.get("channel_id")
    if not channel and isinstance(body.get("channel"), dict):
        channel = body["channel"].get("id")
    response_url = body.get("response_url")
    if not response_url and isinstance(body.get("response_urls"), list) and body["response_urls"]:
        first = body["response_urls"][0]
        response_url = first.get("response_url") if isinstance(first, dict) else None
    # Only Slack's own response_url host; anything else goes through the Web API (ephemeral or DM).
    usable = isinstance(response_url, str) and is_slack_response_url(response_url, ctx.settings)
    tell_user(respond=respond if usable else None, client=client, channel=channel, user=user, text=text)


def _error_text(error: Exception, cid: str) -> str:
    """Log the error at the level it deserves and return what the person is told."""
    if is_database_unavailable(error):
        log.warning("database unreachable handling Slack request [%s]: %s", cid, error.__class__.__name__)
        return f":warning: {DATABASE_UNAVAILABLE_TEXT}"
    if isinstance(error, (OverflowError, DataError)):
        # A number or date the parser let through but storage or date arithmetic cannot hold (>= 2**31,
        # year 9999 plus a shift): the person's input, not a crash.
        log.warning("out-of-range value in Slack request [%s]: %s", cid, str(error).splitlines()[0][:200])
        return (":warning: A number or date in that request is out of range (numbers below 2147483647, "
                "dates before the year 9999).")
    log.error("error handling Slack request [%s]: %s", cid, error, exc_info=error)
    return (f":warning: Sorry, something went wrong (ref `{cid}`). Try again, or ask an admin to look up "
            "the reference in the logs.")
