"""The one Slack Web API client every part of Firewatch uses.

slack_sdk retries only connection errors by default. Rate limits (429, honouring Retry-After) and server errors
(5xx) are retried here too, so a busy workspace slows a page down instead of dropping it. Every call, error and
retry is counted in `firewatch_slack_api_calls` (by Web API method: a small closed set).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.core.metrics import SLACK_CALLS

log = logging.getLogger(__name__)


def _method_of(url: str) -> str:
    """`https://slack.com/api/chat.postMessage` -> `chat.postMessage`."""
    return url.rstrip("/").rsplit("/", 1)[-1]


class _CountRetries:
    """Mixin for slack_sdk retry handlers: each retry about to happen is counted before it waits."""

    def prepare_for_next_attempt(self, *, state, request, response=None, error=None):
        SLACK_CALLS.labels(method=_method_of(request.url), outcome="retry").inc()
        return super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)


class _ConnectionRetries(_CountRetries, ConnectionErrorRetryHandler):
    pass


class _RateLimitRetries(_CountRetries, RateLimitErrorRetryHandler):
    pass


class _ServerErrorRetries(_CountRetries, ServerErrorRetryHandler):
    """Retries every 5xx: slack_sdk's handler retries only 500 and 503, while a 502 from Slack's edge is as
    transient as they are."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and response.status_code >= 500


class MeteredWebClient(WebClient):
    """A WebClient that counts each Web API call's final outcome (`ok` or `error`)."""

    def api_call(self, api_method: str, *args, **kwargs):
        try:
            response = super().api_call(api_method, *args, **kwargs)
        except Exception:
            SLACK_CALLS.labels(method=api_method, outcome="error").inc()
            raise
        SLACK_CALLS.labels(method=api_method, outcome="ok").inc()
        return response


def make_slack_client(token: str | None, base_url: str, *, timeout: int = 15) -> WebClient:
    """A WebClient pointed at `base_url` (FIREWATCH_SLACK_API_URL) with retry handlers installed."""
    if not base_url.endswith("/"):
        base_url += "/"
    return MeteredWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            _ConnectionRetries(max_retry_count=2),
            _RateLimitRetries(max_retry_count=4),
            _ServerErrorRetries(max_retry_count=2),
        ],
        logger=log,
    )
