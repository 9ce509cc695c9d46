"""`POST /webhooks/changes`: deploys and config changes from CI, evidence for triage and root-cause suggestions.

Same bearer token as the alert webhooks (`bot.paging.intake.check_token`): 401 without it, 400 with the reason for
a body that is not a valid change event, 200 `{"ok": true, "id": …}` once stored.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlalchemy.exc import DataError, DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.assist import service
from bot.context import AppContext
from bot.http.database import database_unavailable_response, is_database_unavailable
from bot.http.webhook_body import WebhookRefused, read_webhook_json
from bot.assist.domain import ChangeEvent
from bot.paging.intake import check_token

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


def _problems(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(body)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def routes(ctx: AppContext) -> list[Route]:
    async def changes(request: Request) -> JSONResponse:
        problem = check_token(ctx, request.headers.get("authorization"))
        if problem:
            return JSONResponse({"error": problem}, status_code=401)
        try:
            _raw, data = await read_webhook_json(request, min(MAX_BODY, ctx.settings.webhook_max_body_bytes))
        except WebhookRefused as refused:
            return refused.response
        if not isinstance(data, dict):
            return JSONResponse({"error": "body must be a JSON object with service, version, author, description, "
                                          "timestamp and url"}, status_code=400)
        try:
            event = ChangeEvent.model_validate(data)
        except ValidationError as exc:
            return JSONResponse({"error": _problems(exc)}, status_code=400)
        try:
            change_id = await run_in_threadpool(service.record_change, ctx, event)
        except service.ChangeError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except (DataError, OverflowError):
            return JSONResponse({"error": "a value in the change event is out of range"}, status_code=400)
        except DBAPIError as exc:
            if not is_database_unavailable(exc):
                raise
            return database_unavailable_response()
        log.info("change event %s stored: %s %s", change_id, event.service, event.version)
        return JSONResponse({"ok": True, "id": change_id})

    return [Route("/webhooks/changes", changes, methods=["POST"])]
