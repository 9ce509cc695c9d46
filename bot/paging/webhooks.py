"""HTTP routes for alert intake: `POST /webhooks/alertmanager` and `POST /webhooks/grafana`.

Bearer token (constant-time compare) or 401; malformed payloads 400 with the reason, never 500. The alerts are
stored before the 200, then paged on a worker thread, so a slow Slack never makes Alertmanager time out.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import DataError, DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.context import AppContext
from bot.http.database import database_unavailable_response, is_database_unavailable
from bot.http.webhook_body import WebhookRefused, read_webhook_json
from bot.paging import intake
from bot.paging.domain.alerts import PayloadError

log = logging.getLogger(__name__)


def routes(ctx: AppContext) -> list[Route]:
    def make(source: str):
        async def endpoint(request: Request) -> JSONResponse:
            problem = intake.check_token(ctx, request.headers.get("authorization"))
            if problem:
                return JSONResponse({"error": problem}, status_code=401)
            try:
                body, _parsed = await read_webhook_json(request, ctx.settings.webhook_max_body_bytes)
            except WebhookRefused as refused:
                return refused.response
            try:
                counts = await run_in_threadpool(intake.receive, ctx, body, source)
            except PayloadError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except (DataError, OverflowError) as exc:
                # A value the database or the date arithmetic cannot hold (numbers >= 2**31, year 9999 + a step).
                log.info("%s webhook refused: value out of range (%s)", source, exc.__class__.__name__)
                return JSONResponse({"error": "a value in the payload is out of range"}, status_code=400)
            except DBAPIError as exc:
                if not is_database_unavailable(exc):
                    raise
                log.warning("%s webhook: database unreachable; asking the sender to retry", source)
                return database_unavailable_response()
            if counts["new"]:
                start_processing(ctx)
            return JSONResponse({"ok": True, **counts})

        return endpoint

    return [Route("/webhooks/alertmanager", make("alertmanager"), methods=["POST"]),
            Route("/webhooks/grafana", make("grafana"), methods=["POST"])]


def start_processing(ctx: AppContext) -> threading.Thread:
    """Page for the stored alerts on a background thread (the webhook has already answered)."""
    return ctx.background.start("alert-intake", intake.process_pending, ctx,
                                failure="alert processing failed; pending alerts are retried at start-up")
