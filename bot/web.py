"""The HTTP server: Slack's `POST /slack/events`, `GET /healthz`, `GET /readyz`, and the webhook and feed routes
other packages add.

`/slack/events` is guarded before bolt sees anything: the body is capped (413), the signature headers are checked
(401, nothing parsed, logged or acted on), the body is parsed here (bolt's own parser mistakes commands containing
"payload" for interactions), an identical slash command replayed inside the signature window is run once, and
while the database is unreachable people get a clear ephemeral reply instead of an error. Bolt then runs on a worker
thread, so the event loop never blocks on a listener.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Callable

import httpx
from slack_bolt import App
from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.context import AppContext
from bot.correlation import new_correlation_id, reset_request_context
from bot.core.metrics import ACK_SECONDS, REQUESTS, render_metrics
from bot.http.database import (DATABASE_UNAVAILABLE_TEXT, RETRY_AFTER_SECONDS, DatabaseProbe,
                               database_unavailable_response, is_database_unavailable)
from bot.http.json_guard import InputRejected, decode_utf8
from bot.http.limits import BadContentLength, BodyTooLarge, read_capped_body
from bot.http.slack_body import ParsedBoltRequest, SlackBody, parse_slack_body
from bot.http.slack_signature import signature_problem
from bot.incidents import store as incident_store
from bot.safety import install_log_hygiene
from bot.slack.app import VERIFIED
from bot.slack.respond import is_slack_response_url
from storage.db import migration_problem, ping

log = logging.getLogger(__name__)
access_log = logging.getLogger("bot.http.access")

REPLAY_KEY_PREFIX = "slack-cmd:"
ACK_DEADLINE_SECONDS = 2.5
SLOW_REPLY_TEXT = (":hourglass_flowing_sand: Firewatch is taking longer than usual to answer. If no result appears "
                   "here shortly, try again.")


def ephemeral(text: str) -> JSONResponse:
    """A reply Slack shows only to the person who ran the command."""
    return JSONResponse({"response_type": "ephemeral", "text": text})


def replay_key(signature: str) -> str:
    """The processed_events key for a signed slash command (the column holds 64 characters)."""
    return REPLAY_KEY_PREFIX + signature.removeprefix("v0=")[: 64 - len(REPLAY_KEY_PREFIX)]


def build_web_app(ctx: AppContext, slack_app: App | None, *, extra_routes: list[Route] | None = None) -> Starlette:
    """`slack_app` is None in Socket Mode, where Slack traffic arrives over the socket instead."""
    install_log_hygiene()
    probe = DatabaseProbe(lambda: ctx.engine)
    ctx.services.database_probe = probe

    async def slack_events(request: Request) -> Response:
        """Counts and times every Slack request by the kind parsed from it (`unparsed` when refused before)."""
        started = time.monotonic()
        response = await handle_slack_events(ctx, slack_app, probe, request)
        kind = getattr(request.state, "slack_kind", "unparsed")
        REQUESTS.labels(kind=kind, outcome=request_outcome(response.status_code)).inc()
        ACK_SECONDS.labels(kind=kind).observe(time.monotonic() - started)
        return response

    async def healthz(_request: Request) -> Response:
        db_ok = await run_in_threadpool(ping, ctx.engine)
        return JSONResponse({"ok": db_ok, "database": "ok" if db_ok else "unreachable"},
                            status_code=200 if db_ok else 503)

    async def readyz(_request: Request) -> Response:
        return await readiness(ctx, probe)

    routes = [Route("/slack/events", slack_events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"]),
              Route("/readyz", readyz, methods=["GET"]), Route("/metrics", metrics, methods=["GET"])]
    routes += extra_routes or []
    web = Starlette(routes=routes, exception_handlers={DBAPIError: database_down})
    web.add_middleware(AccessLogMiddleware)
    return web


async def metrics(_request: Request) -> Response:
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)


async def database_down(request: Request, exc: Exception) -> Response:
    """Any route whose database call fails on the connection answers 503, not 500."""
    if is_database_unavailable(exc):
        log.warning("database unreachable while serving %s: %s", request.url.path, exc.__class__.__name__)
        return database_unavailable_response()
    raise exc


async def handle_slack_events(ctx: AppContext, slack_app: App | None, probe: DatabaseProbe,
                              request: Request) -> Response:
    """`POST /slack/events`: size cap, signature, parse, database and replay checks, then bolt."""
    if slack_app is None:
        return JSONResponse({"error": "this server runs in Socket Mode; Slack requests arrive over the socket"},
                            status_code=404)
    try:
        raw = await read_capped_body(request, ctx.settings.slack_max_body_bytes)
    except BodyTooLarge as exc:
        return JSONResponse({"error": str(exc)}, status_code=413)
    except BadContentLength as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    problem = signature_problem_for(ctx, request, raw)
    if problem:
        return JSONResponse({"error": problem}, status_code=401)
    # Verified from here on: the body came from Slack.
    try:
        text = decode_utf8(raw)
        slack_body = parse_slack_body(text, request.headers.get("content-type"))
    except InputRejected as exc:
        return refuse_input(str(exc), exc.kind)
    request.state.slack_kind = slack_body.kind
    refusal = await refuse_before_dispatch(ctx, probe, request, slack_body)
    if refusal is not None:
        return refusal
    return await dispatch_to_bolt(slack_app, bolt_request_for(request, text, slack_body), slack_body.kind)


async def refuse_before_dispatch(ctx: AppContext, probe: DatabaseProbe, request: Request,
                                 slack_body: SlackBody) -> Response | None:
    """The reply for a request that must not reach bolt (database down, replayed command), else None."""
    needs_database = slack_body.kind in ("command", "interaction") or (
        slack_body.kind == "event" and slack_body.data.get("type") != "url_verification")
    if needs_database and not await probe.reachable():
        return await tell_database_unavailable(ctx, slack_body)
    if slack_body.kind != "command":
        return None
    try:
        first = await run_in_threadpool(claim_command, ctx, request.headers["x-slack-signature"])
    except DBAPIError as exc:
        if not is_database_unavailable(exc):
            raise
        return await tell_database_unavailable(ctx, slack_body)
    if not first:
        log.info("replayed slash command ignored")
        return ephemeral("This exact command was already received; it is not run twice.")
    return None


def bolt_request_for(request: Request, text: str, slack_body: SlackBody) -> ParsedBoltRequest:
    """The bolt request for a body this edge already verified and parsed."""
    headers: dict[str, list[str]] = {}
    for key, value in request.headers.items():
        headers.setdefault(key.lower(), []).append(value)
    bolt_request = ParsedBoltRequest(raw_body=text, parsed=slack_body.data, query=request.url.query, headers=headers)
    bolt_request.context[VERIFIED] = True
    return bolt_request


async def dispatch_to_bolt(slack_app: App, bolt_request: ParsedBoltRequest, kind: str) -> Response:
    """Run bolt on a worker thread; commands and interactions are answered within Slack's deadline."""
    dispatch = asyncio.ensure_future(run_in_threadpool(slack_app.dispatch, bolt_request))
    abandoned = False

    def note_late_failure(future: asyncio.Future) -> None:
        # The outcome of a dispatch answered for after the deadline is collected here, not lost.
        if abandoned and not future.cancelled() and future.exception() is not None:
            log.error("Slack %s failed after its reply was sent", kind, exc_info=future.exception())

    dispatch.add_done_callback(note_late_failure)
    try:
        if kind in ("command", "interaction"):
            # Slack gives up after 3 s; answer before that even when a listener is slow to ack (it keeps
            # running and can still reply through the response_url).
            bolt_response = await asyncio.wait_for(asyncio.shield(dispatch), ACK_DEADLINE_SECONDS)
        else:
            bolt_response = await dispatch
    except asyncio.TimeoutError:
        abandoned = True
        log.warning("Slack %s not acknowledged within %.1fs; answered for it", kind, ACK_DEADLINE_SECONDS)
        return ephemeral(SLOW_REPLY_TEXT) if kind == "command" else Response(status_code=200)
    except Exception:  # noqa: BLE001 - a bug (ours or bolt's) must still not give Slack a 500
        log.exception("Slack %s could not be dispatched", kind)
        if kind == "command":
            return ephemeral(":warning: Sorry, something went wrong; try again or ask an admin to check the logs.")
        return JSONResponse({"error": "request could not be handled"}, status_code=400)
    if bolt_response.status >= 500 and kind in ("command", "interaction"):
        # The global error handler has already told the person; a 5xx would only add Slack's own error.
        return Response(status_code=200)
    return Response(status_code=bolt_response.status, content=bolt_response.body,
                    headers={k: v[0] for k, v in bolt_response.headers.items() if v})


async def readiness(ctx: AppContext, probe: DatabaseProbe) -> Response:
    """Ready means this replica can serve traffic now: the database answers, its schema is the one this code
    needs, and the scheduler has started (leading or following: followers serve Slack and webhooks too)."""
    if not await probe.reachable():
        return JSONResponse({"ready": False, "database": "unreachable"}, status_code=503,
                            headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    problem = await run_in_threadpool(migration_problem, ctx.engine)
    scheduler = scheduler_state(ctx.services.scheduler)
    ready = problem is None and scheduler != "stopped"
    body = {"ready": ready, "database": "ok", "migrations": problem or "current", "scheduler": scheduler}
    return JSONResponse(body, status_code=200 if ready else 503)


def scheduler_state(scheduler) -> str:
    """`leader`, `follower`, `stopped` (not started, or shut down) or `disabled` (this process runs none)."""
    if scheduler is None:
        return "disabled"
    if not scheduler.started or scheduler.stopping:
        return "stopped"
    return "leader" if scheduler.leader else "follower"


def request_outcome(status: int) -> str:
    """A closed label set: `ok` for 2xx/3xx, `rejected` for 4xx (size, signature, input), `error` for 5xx."""
    if status < 400:
        return "ok"
    return "rejected" if status < 500 else "error"


def signature_problem_for(ctx: AppContext, request: Request, raw: bytes) -> str | None:
    secret = ctx.settings.slack_signing_secret
    if not secret:
        return "this server has no signing secret configured"
    return signature_problem(request.headers, raw, secret)


def refuse_input(reason: str, kind: str | None) -> Response:
    """Verified but unusable input: a usage message for a slash command (Slack shows only a 200's body), a clear
    400 for anything else."""
    if kind == "command":
        return ephemeral(f":warning: Firewatch could not read that command: {reason}.")
    return JSONResponse({"error": reason}, status_code=400)


def claim_command(ctx: AppContext, signature: str) -> bool:
    """True the first time this exact signed slash command arrives; a replay carries the same signature."""
    with ctx.session() as s:
        return incident_store.claim_event(s, replay_key(signature))


async def tell_database_unavailable(ctx: AppContext, slack_body: SlackBody) -> Response:
    """Commands get the message as their reply; buttons and forms through their response_url (Slack's own
    host only); Events API deliveries get 503 so Slack retries them later."""
    text = f":warning: {DATABASE_UNAVAILABLE_TEXT}"
    if slack_body.kind == "command":
        return ephemeral(text)
    if slack_body.kind == "event":
        return database_unavailable_response()
    data = slack_body.data
    if data.get("type") == "view_submission":
        errors = _first_block_errors(data, DATABASE_UNAVAILABLE_TEXT)
        return JSONResponse({"response_action": "errors", "errors": errors}) if errors else Response(status_code=200)
    response_url = data.get("response_url")
    if isinstance(response_url, str) and is_slack_response_url(response_url, ctx.settings):
        await _post_ephemeral(response_url, text)
    return Response(status_code=200)


def _first_block_errors(data: dict, text: str) -> dict[str, str]:
    """A modal can only show an error next to one of its inputs: use the first one."""
    view = data.get("view")
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    if isinstance(values, dict):
        for block_id in values:
            return {str(block_id): text}
    return {}


async def _post_ephemeral(url: str, text: str) -> None:
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            await client.post(url, content=json.dumps({"response_type": "ephemeral", "replace_original": False,
                                                       "text": text}),
                              headers={"Content-Type": "application/json"})
    except httpx.HTTPError as exc:
        log.warning("could not post the database-unavailable reply: %s", exc.__class__.__name__)


class AccessLogMiddleware:
    """One INFO line per request: method, path (never the query string: calendar tokens live there), status."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        # Each request starts with its own ids, so its log lines never carry those of an earlier request.
        reset_request_context()
        new_correlation_id()

        async def send_and_log(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                # Logged before the response goes out, so the line exists by the time the client has its answer.
                access_log.info("%s %s %s", scope.get("method"), scope.get("path"), message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_log)
        except Exception:
            if not started:
                access_log.info("%s %s 500", scope.get("method"), scope.get("path"))
            raise


RouteFactory = Callable[[AppContext], list[Route]]
