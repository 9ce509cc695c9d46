"""HTTP routes: `POST /webhooks/twilio/voice` (key presses on page calls, X-Twilio-Signature verified, else 403)
and `POST /webhooks/heartbeat/<name>` (the alert webhook bearer token, else 401)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.contacts import heartbeats, service
from bot.contacts.senders import VOICE_PATH, SenderSettings
from bot.context import AppContext

log = logging.getLogger(__name__)
MAX_FORM_BYTES = 64 * 1024


def _signed_url(ctx: AppContext, request: Request) -> str:
    """The URL Twilio signed: the public URL it was given (behind a proxy the request URL differs)."""
    if ctx.settings.public_url:
        query = f"?{request.url.query}" if request.url.query else ""
        return f"{ctx.settings.public_url.rstrip('/')}{request.url.path}{query}"
    return str(request.url)


def twiml(text: str) -> Response:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say(text)
    return Response(str(response), media_type="application/xml")


def voice_routes(ctx: AppContext) -> list[Route]:
    async def voice(request: Request) -> Response:
        from twilio.request_validator import RequestValidator

        token = SenderSettings().twilio_auth_token
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:  # refused before reading
            return JSONResponse({"error": "body too large or without a length"}, status_code=413)
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
        # Twilio posts application/x-www-form-urlencoded; parsed here (no multipart parser needed).
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        signature = request.headers.get("x-twilio-signature", "")
        if not token or not signature or not RequestValidator(token).validate(_signed_url(ctx, request), form,
                                                                              signature):
            log.warning("twilio voice callback refused: missing or wrong X-Twilio-Signature")
            return JSONResponse({"error": "missing or wrong X-Twilio-Signature"}, status_code=403)
        try:
            page_id = int(request.query_params.get("page", ""))
        except ValueError:
            return twiml("This call has no page. Goodbye.")
        user_id = request.query_params.get("user", "")
        text = await run_in_threadpool(service.voice_keypress, ctx, page_id, user_id, form.get("CallSid", ""),
                                       form.get("Digits", ""))
        return twiml(text)

    return [Route(VOICE_PATH, voice, methods=["POST"])]


def heartbeat_routes(ctx: AppContext) -> list[Route]:
    async def beat(request: Request) -> JSONResponse:
        from bot.paging.intake import check_token

        problem = check_token(ctx, request.headers.get("authorization"))
        if problem:
            return JSONResponse({"error": problem}, status_code=401)
        name = request.path_params["name"]
        if heartbeats.config_for(ctx, name) is None:
            known = ", ".join(h.name for h in ctx.config.heartbeats) or "none configured"
            return JSONResponse({"error": f"unknown heartbeat {name!r} (known: {known})"}, status_code=404)
        await request.body()  # an Alertmanager Watchdog payload is accepted and not needed
        state = await run_in_threadpool(heartbeats.beat, ctx, name)
        return JSONResponse({"ok": True, "heartbeat": name, **state})

    return [Route("/webhooks/heartbeat/{name}", beat, methods=["POST"])]
