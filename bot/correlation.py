"""A correlation id per handled request, so a user-facing error can be matched to its log lines."""

from __future__ import annotations

import contextvars
import uuid
from concurrent.futures import ThreadPoolExecutor

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("firewatch_correlation_id", default=None)


def new_correlation_id() -> str:
    cid = uuid.uuid4().hex[:12]
    _current.set(cid)
    return cid


def current_correlation_id() -> str | None:
    return _current.get()


_incident: contextvars.ContextVar[int | None] = contextvars.ContextVar("firewatch_incident_number", default=None)
_page: contextvars.ContextVar[int | None] = contextvars.ContextVar("firewatch_page_id", default=None)


def bind_incident(number: int | None) -> None:
    """Log lines from here on (in this request or job) carry this incident number."""
    _incident.set(number)


def bind_page(page_id: int | None) -> None:
    """Log lines from here on (in this request or job) carry this page id."""
    _page.set(page_id)


def current_incident() -> int | None:
    return _incident.get()


def current_page() -> int | None:
    return _page.get()


def reset_request_context() -> None:
    """Forget the ids of whatever ran before on this (pooled) thread."""
    _current.set(None)
    _incident.set(None)
    _page.set(None)


class ContextCopyingExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context, so a listener logs (and shows the
    user) the correlation id of *its* request rather than the one a pooled thread last saw."""

    def submit(self, fn, /, *args, **kwargs):
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)
