"""Is the database reachable? One shared probe for `/readyz` and the Slack edge, and a test for exceptions that
mean "the database is down" rather than "the code is wrong"."""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from storage.db import ping

DATABASE_UNAVAILABLE_TEXT = "Firewatch can't reach its database; try again in a moment."
RETRY_AFTER_SECONDS = 5


def database_unavailable_response() -> JSONResponse:
    """For webhooks: 503 with Retry-After, so Alertmanager and CI retry instead of losing the delivery."""
    return JSONResponse({"error": DATABASE_UNAVAILABLE_TEXT}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def is_database_unavailable(error: BaseException) -> bool:
    """True for connection-level failures (refused, dropped, pool exhausted), not for SQL or data errors."""
    for exc in _chain(error):
        if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
            return True
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return True
    return False


def _chain(error: BaseException):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


class DatabaseProbe:
    """Pings the database at most once at a time: a database that hangs costs one stuck thread and `timeout`
    seconds per caller, never one thread per request or a reply slower than Slack's 3 seconds."""

    def __init__(self, engine: Callable[[], Engine], *, timeout: float = 1.5, fresh_seconds: float = 0.5):
        self._engine = engine
        self._timeout = timeout
        # A ping that succeeded this recently answers for the next callers: under load one ping per request doubles
        # the database round trips of a command. A database lost inside that window still fails the request's own
        # query, which every caller turns into the same "try again" reply or 503.
        self._fresh_seconds = fresh_seconds
        self._ok_at = float("-inf")
        self._inflight: asyncio.Future | None = None

    async def reachable(self) -> bool:
        if time.monotonic() - self._ok_at < self._fresh_seconds:
            return True
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(run_in_threadpool(ping, self._engine()))
        try:
            ok = bool(await asyncio.wait_for(asyncio.shield(self._inflight), self._timeout))
        except asyncio.TimeoutError:
            return False
        if ok:
            self._ok_at = time.monotonic()
        return ok
