"""A correlation id per handled request, so a user-facing error can be matched to its log lines."""

from __future__ import annotations

import contextvars
import uuid

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("firewatch_correlation_id", default=None)


def new_correlation_id() -> str:
    cid = uuid.uuid4().hex[:12]
    _current.set(cid)
    return cid


def current_correlation_id() -> str | None:
    return _current.get()
