"""The common front of every JSON webhook: capped read (413), then UTF-8, depth and NUL checks (400), so the
route's own parser only ever sees bounded, well-formed text."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.http.json_guard import InputRejected, decode_utf8, parse_json_safely
from bot.http.limits import BadContentLength, BodyTooLarge, read_capped_body


class WebhookRefused(Exception):
    """Carries the response to send instead of processing the body."""

    def __init__(self, response: JSONResponse):
        super().__init__(response.status_code)
        self.response = response


async def read_webhook_json(request: Request, limit: int) -> tuple[bytes, Any]:
    """The raw body and its parsed JSON, or WebhookRefused with a 413 or 400 saying why."""
    try:
        raw = await read_capped_body(request, limit)
    except BodyTooLarge as exc:
        raise WebhookRefused(JSONResponse({"error": str(exc)}, status_code=413)) from None
    except BadContentLength as exc:
        raise WebhookRefused(JSONResponse({"error": str(exc)}, status_code=400)) from None
    try:
        return raw, parse_json_safely(decode_utf8(raw))
    except InputRejected as exc:
        raise WebhookRefused(JSONResponse({"error": str(exc)}, status_code=400)) from None
