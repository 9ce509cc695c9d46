"""Checking Slack's request signature ourselves, before bolt: slack_sdk's verifier raises on a non-numeric
timestamp, and bolt logs rejected bodies. Here a bad header is just a refusal."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Callable, Mapping

# Slack's documented window: requests signed more than five minutes away from now are refused (replays).
MAX_CLOCK_SKEW_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # ASCII digits only: "²" and "١" are digits to str.isdigit()
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signature_problem(headers: Mapping[str, str], body: bytes, secret: str, *,
                      clock: Callable[[], float] = time.time) -> str | None:
    """None when `body` carries a valid, fresh Slack signature; otherwise a short reason (never echoing input)."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if timestamp is None or signature is None:
        return "missing Slack signature headers"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "malformed X-Slack-Request-Timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return "malformed X-Slack-Signature"
    if abs(clock() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        return "stale X-Slack-Request-Timestamp"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "invalid Slack signature"
    return None
