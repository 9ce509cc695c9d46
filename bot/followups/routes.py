"""HTTP routes: `POST /webhooks/github` (issues events, `X-Hub-Signature-256` verified with the GitHub webhook
secret) and `POST /webhooks/jira` (`jira:issue_updated`, shared secret as `?token=` or a bearer token).
Unsigned or wrong: 401; not the documented JSON: 400; an issue no follow-up has: 200 `ignored`."""

from __future__ import annotations

import logging
import os

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.context import AppContext
from bot.followups import service, webhooks

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024  # GitHub caps payloads at 25 MB; an issues event is a few kB


async def _body(request: Request) -> bytes | None:
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        return None
    body = await request.body()
    return body if len(body) <= MAX_BODY_BYTES else None


async def _apply(ctx: AppContext, parse) -> JSONResponse:
    try:
        change = parse()
    except webhooks.Malformed as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    if change is None:
        return JSONResponse({"ok": True, "result": "ignored", "why": "not a close or reopen"})
    result = await run_in_threadpool(service.apply_webhook, ctx, change)
    return JSONResponse({"ok": True, "result": result})


def webhook_routes(ctx: AppContext) -> list[Route]:
    cfg = ctx.config.followups

    async def github(request: Request) -> JSONResponse:
        body = await _body(request)
        if body is None:
            return JSONResponse({"error": "body too large or without a length"}, status_code=413)
        secret = os.environ.get(cfg.github_webhook_secret_env, "")
        if not webhooks.github_signature_ok(secret, body, request.headers.get("x-hub-signature-256")):
            log.warning("github webhook refused: missing or wrong X-Hub-Signature-256")
            return JSONResponse({"error": "missing or wrong X-Hub-Signature-256 (check the webhook secret matches "
                                 f"{cfg.github_webhook_secret_env})"}, status_code=401)
        return await _apply(ctx, lambda: webhooks.parse_github(request.headers.get("x-github-event"),
                                                               request.headers.get("x-github-delivery"), body))

    async def jira(request: Request) -> JSONResponse:
        body = await _body(request)
        if body is None:
            return JSONResponse({"error": "body too large or without a length"}, status_code=413)
        secret = os.environ.get(cfg.jira_webhook_secret_env, "")
        auth = request.headers.get("authorization", "")
        given = request.query_params.get("token") or (auth[7:] if auth.lower().startswith("bearer ") else None)
        if not webhooks.token_ok(secret, given):
            log.warning("jira webhook refused: missing or wrong token")
            return JSONResponse({"error": "missing or wrong token (add ?token=<the value of "
                                 f"{cfg.jira_webhook_secret_env}> to the webhook URL)"}, status_code=401)
        return await _apply(ctx, lambda: webhooks.parse_jira(body))

    return [Route("/webhooks/github", github, methods=["POST"]), Route("/webhooks/jira", jira, methods=["POST"])]
