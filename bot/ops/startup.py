"""Checks `firewatch serve` makes before starting, each failing with one line that names what to fix."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.settings import Settings

SLACK_CHECK_TIMEOUT_SECONDS = 10
# slack_sdk logs each failed attempt at ERROR; the check reports the outcome itself, in one line.
_sdk_log = logging.getLogger("bot.ops.startup.auth_test")
_sdk_log.addHandler(logging.NullHandler())
_sdk_log.propagate = False
# Slack's answers that mean the token itself is wrong, rather than Slack or the network.
TOKEN_ERRORS = ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                "not_allowed_token_type")


def slack_problem(settings: Settings) -> str | None:
    """None when `auth.test` accepts SLACK_BOT_TOKEN at FIREWATCH_SLACK_API_URL; otherwise one sentence."""
    url = settings.normalized_slack_api_url
    client = WebClient(token=settings.slack_bot_token, base_url=url, timeout=SLACK_CHECK_TIMEOUT_SECONDS,
                       logger=_sdk_log)
    try:
        client.auth_test()
    except SlackApiError as exc:
        error = _error_code(exc)
        if error in TOKEN_ERRORS:
            return f"Slack rejected SLACK_BOT_TOKEN ({error}) at {url}; check the bot token of your Slack app"
        return f"the Slack API at {url} (FIREWATCH_SLACK_API_URL) answered auth.test with {error}"
    except Exception as exc:  # noqa: BLE001 - URLError, timeouts, TLS, bad JSON: all mean "cannot use this URL"
        reason = str(getattr(exc, "reason", None) or exc).splitlines()[0][:200] or exc.__class__.__name__
        return f"cannot reach the Slack API at {url} (FIREWATCH_SLACK_API_URL): {reason}"
    return None


def _error_code(exc: SlackApiError) -> str:
    response = exc.response
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {getattr(response, 'status_code', '?')}"
