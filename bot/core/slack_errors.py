"""The Slack error code of an exception, for logs, failed-step records and replies."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError


def slack_error_code(exc: BaseException) -> str:
    """Slack's short error code (`name_taken`, `ratelimited`, `channel_not_found`, ...).

    Web API errors arrive as HTTP 200 with `"ok": false` and an `error` field; a response without one (a proxy's
    502, say) gives `http_<status>`. Any other exception (a timeout, a refused connection) gives its class name."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        # A SlackResponse keeps the body in `.data`; code that raises SlackApiError itself may pass a plain dict.
        data = response if isinstance(response, dict) else getattr(response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        return str(code or f"http_{getattr(response, 'status_code', 'unknown')}")
    return type(exc).__name__
