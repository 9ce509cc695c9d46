"""`GET /oncall/<rotation>.ics?token=…`: a rotation's shifts as a private iCalendar feed (`/oncall export`)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.context import AppContext
from bot.rotations import flows


def routes(ctx: AppContext) -> list[Route]:
    async def feed(request: Request) -> Response:
        rotation = request.path_params["rotation"]
        token = request.query_params.get("token", "")
        status, body = await run_in_threadpool(flows.ical_feed, ctx, rotation, token)
        media = "text/calendar; charset=utf-8" if status == 200 else "text/plain; charset=utf-8"
        headers = {"Cache-Control": "private, max-age=300"} if status == 200 else {}
        return Response(body, status_code=status, media_type=media, headers=headers)

    return [Route("/oncall/{rotation}.ics", feed, methods=["GET"])]
