"""The one Slack Web API client every part of Firewatch uses.

slack_sdk retries only connection errors by default. Rate limits (429, honouring Retry-After) and server errors
(5xx) are retried here too, so a busy workspace slows a page down instead of dropping it.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

log = logging.getLogger(__name__)


def make_slack_client(token: str | None, base_url: str, *, timeout: int = 15) -> WebClient:
    """A WebClient pointed at `base_url` (FIREWATCH_SLACK_API_URL) with retry handlers installed."""
    if not base_url.endswith("/"):
        base_url += "/"
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=4),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
        logger=log,
    )
