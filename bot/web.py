"""The HTTP server: Slack's `POST /slack/events`, `GET /healthz`, and the webhook and feed routes other packages
add. Slack requests are handed to bolt on a worker thread, so the event loop never blocks on a listener."""

from __future__ import annotations

import logging
from typing import Callable

from slack_bolt import App, BoltRequest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.context import AppContext
from storage.db import ping

log = logging.getLogger(__name__)


def build_web_app(ctx: AppContext, slack_app: App | None, *, extra_routes: list[Route] | None = None) -> Starlette:
    """`slack_app` is None in Socket Mode, where Slack traffic arrives over the socket instead."""

    async def slack_events(request: Request) -> Response:
        if slack_app is None:
            return JSONResponse({"error": "this server runs in Socket Mode; Slack requests arrive over the socket"},
                                status_code=404)
        body = (await request.body()).decode("utf-8", errors="replace")
        headers: dict[str, list[str]] = {}
        for key, value in request.headers.items():
            headers.setdefault(key.lower(), []).append(value)
        bolt_request = BoltRequest(body=body, query=request.url.query, headers=headers)
        bolt_response = await run_in_threadpool(slack_app.dispatch, bolt_request)
        return Response(status_code=bolt_response.status, content=bolt_response.body,
                        headers={k: v[0] for k, v in bolt_response.headers.items() if v})

    async def healthz(_request: Request) -> Response:
        db_ok = await run_in_threadpool(ping, ctx.engine)
        return JSONResponse({"ok": db_ok, "database": "ok" if db_ok else "unreachable"},
                            status_code=200 if db_ok else 503)

    routes = [Route("/slack/events", slack_events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    routes += extra_routes or []
    return Starlette(routes=routes)


RouteFactory = Callable[[AppContext], list[Route]]
