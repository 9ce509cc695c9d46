"""Mirroring pages to PagerDuty through the Events API v2 (`POST /v2/enqueue`).

Each Firewatch page maps to one PagerDuty alert through a stable dedup key (`firewatch-page-<id>`), so trigger,
acknowledge and resolve for the same page all land on the same PagerDuty alert, and a retried trigger does not
create a second one.

PagerDuty is a mirror: a failure there must never stop Slack paging. So the client never raises; it returns a
`PagerDutyResult`. Retries follow PagerDuty's documented table: 202 done; 400 never retried (the event is
invalid, retrying cannot help); 429, 5xx and network errors retried with exponential backoff.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from bot.paging.domain.alerts import Alert
from bot.paging.domain.config import PagerDutyMirrorConfig

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://events.pagerduty.com"
ENQUEUE_PATH = "/v2/enqueue"
PD_SEVERITIES = ("critical", "error", "warning", "info")
SUMMARY_LIMIT = 1024  # PagerDuty truncates/rejects longer summaries
DEDUP_KEY_LIMIT = 255
SOURCE_LIMIT = 255

# Incident severity -> PagerDuty severity; anything unknown (or sev4 and below) is informational.
_SEV_TO_PD = {"sev1": "critical", "sev2": "error", "sev3": "warning"}


def page_dedup_key(page_id: str | int) -> str:
    """The PagerDuty dedup key for a Firewatch page."""
    return f"firewatch-page-{page_id}"[:DEDUP_KEY_LIMIT]


def pd_severity(severity: str | None) -> str:
    """Map `sev1`..`sev9` (or a PagerDuty severity already) to critical|error|warning|info."""
    if severity in PD_SEVERITIES:
        return severity  # type: ignore[return-value]
    return _SEV_TO_PD.get(severity or "", "info")


def routing_key_from_env(config: PagerDutyMirrorConfig | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The routing key named by a policy's `pagerduty.routing_key_env`, or None if unset/empty/not configured."""
    if config is None:
        return None
    env = os.environ if environ is None else environ
    value = (env.get(config.routing_key_env) or "").strip()
    return value or None


@dataclass(frozen=True)
class PagerDutyResult:
    """What happened to one event. `ok` is True only for a 202 from PagerDuty."""

    ok: bool
    status: int | None  # HTTP status of the last attempt; None when no response was received or nothing was sent
    message: str
    dedup_key: str
    attempts: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)


class PagerDutyClient:
    """Small Events API v2 client. Pass your own `httpx.Client` to share a pool or to test with respx."""

    def __init__(
        self,
        routing_key: str,
        *,
        client: httpx.Client | None = None,
        base_url: str = DEFAULT_BASE_URL,
        max_attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        client_name: str = "Firewatch",
        client_url: str | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._routing_key = routing_key
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=timeout)
        self._url = base_url.rstrip("/") + ENQUEUE_PATH
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._timeout = timeout
        self._sleep = sleep
        self._client_name = client_name
        self._client_url = client_url

    def __repr__(self) -> str:  # never show the routing key in logs or tracebacks
        return f"PagerDutyClient(url={self._url!r})"

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> "PagerDutyClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events -------------------------------------------------------------------------------------------

    def trigger(
        self,
        page_id: str | int,
        summary: str,
        *,
        severity: str = "critical",
        source: str = "firewatch",
        component: str | None = None,
        group: str | None = None,
        event_class: str | None = None,
        timestamp: datetime | None = None,
        custom_details: Mapping[str, Any] | None = None,
        links: Iterable[tuple[str, str]] = (),
    ) -> PagerDutyResult:
        """Open (or re-send) the PagerDuty alert for a page.

        `severity` may be a PagerDuty severity or `sevN`; `links` are (text, url) pairs, non-http(s) ones dropped.
        """
        key = page_dedup_key(page_id)
        sev = pd_severity(severity)
        payload: dict[str, Any] = {
            "summary": _clip(summary.strip() or f"Firewatch page {page_id}", SUMMARY_LIMIT),
            "source": _clip(source.strip() or "firewatch", SOURCE_LIMIT),
            "severity": sev,
        }
        if timestamp is not None:
            ts = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=timezone.utc)
            payload["timestamp"] = ts.isoformat()
        for name, value in (("component", component), ("group", group), ("class", event_class)):
            if value:
                payload[name] = value
        if custom_details:
            payload["custom_details"] = dict(custom_details)
        body: dict[str, Any] = {
            "routing_key": self._routing_key,
            "event_action": "trigger",
            "dedup_key": key,
            "payload": payload,
            "client": self._client_name,
        }
        if self._client_url:
            body["client_url"] = self._client_url
        link_list = [{"href": url, "text": _clip(text, 255)} for text, url in links if _is_http(url)]
        if link_list:
            body["links"] = link_list
        return self._send(body, key)

    def acknowledge(self, page_id: str | int) -> PagerDutyResult:
        """Mark the page's PagerDuty alert acknowledged."""
        key = page_dedup_key(page_id)
        return self._send({"routing_key": self._routing_key, "event_action": "acknowledge", "dedup_key": key}, key)

    def resolve(self, page_id: str | int) -> PagerDutyResult:
        """Resolve the page's PagerDuty alert."""
        key = page_dedup_key(page_id)
        return self._send({"routing_key": self._routing_key, "event_action": "resolve", "dedup_key": key}, key)

    # -- transport ----------------------------------------------------------------------------------------

    def _send(self, body: dict[str, Any], key: str) -> PagerDutyResult:
        if not self._routing_key:
            return PagerDutyResult(False, None, "no PagerDuty routing key configured", key)
        errors: list[str] = []
        status: int | None = None
        for attempt in range(1, self._max_attempts + 1):
            retry_after: float | None = None
            try:
                response = self._client.post(self._url, json=body, timeout=self._timeout)
            except httpx.TransportError as exc:  # connect/read errors and timeouts: worth retrying
                status = None
                errors.append(f"network error: {type(exc).__name__}: {exc}")
            except Exception as exc:  # noqa: BLE001 - the mirror must never take paging down with it
                errors.append(f"unexpected error: {type(exc).__name__}: {exc}")
                return PagerDutyResult(False, None, errors[-1], key, attempt, tuple(errors))
            else:
                status = response.status_code
                message, returned_key = _describe_response(response)
                if status == 202:
                    return PagerDutyResult(True, status, message or "accepted", returned_key or key, attempt, tuple(errors))
                errors.append(f"HTTP {status}: {message}")
                if status != 429 and status < 500:
                    # 400 (invalid event) and other 4xx: the same request will fail the same way.
                    return PagerDutyResult(False, status, message, key, attempt, tuple(errors))
                retry_after = _retry_after(response)
            if attempt < self._max_attempts:
                delay = min(self._max_backoff, self._backoff * (2 ** (attempt - 1)))
                if retry_after is not None:
                    delay = min(self._max_backoff, max(delay, retry_after))
                log.info("PagerDuty %s for %s failed (%s); retry %d in %.1fs", body["event_action"], key, errors[-1], attempt, delay)
                self._sleep(delay)
        log.warning("PagerDuty %s for %s gave up after %d attempts: %s", body["event_action"], key, self._max_attempts, errors[-1])
        return PagerDutyResult(
            False, status, f"gave up after {self._max_attempts} attempts; last: {errors[-1]}", key, self._max_attempts, tuple(errors)
        )


def _describe_response(response: httpx.Response) -> tuple[str, str | None]:
    """(message, dedup_key) from a PagerDuty response body, tolerating non-JSON bodies (proxies, HTML errors)."""
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
        return (_clip(text, 300) if text else response.reason_phrase or f"HTTP {response.status_code}"), None
    if not isinstance(data, dict):
        return _clip(str(data), 300), None
    message = str(data.get("message") or data.get("status") or f"HTTP {response.status_code}")
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        message += ": " + "; ".join(str(e) for e in errors)
    key = data.get("dedup_key")
    return _clip(message, 1000), key if isinstance(key, str) else None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date; the exponential backoff is good enough


def _is_http(url: str) -> bool:
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trigger_fields_for_alert(alert: Alert) -> dict[str, Any]:
    """Keyword arguments for `PagerDutyClient.trigger` describing an alert (summary, source, details, links).

    PagerDuty renders text itself, so nothing is Slack-escaped here.
    """
    labels = alert.labels
    source = labels.get("instance") or labels.get("host") or labels.get("job") or f"{alert.source}"
    details: dict[str, Any] = {"labels": dict(labels), "fingerprint": alert.fingerprint}
    if alert.annotations:
        details["annotations"] = dict(alert.annotations)
    if alert.value_string:
        details["values"] = alert.value_string
    links = [
        (text, url)
        for text, url in (
            ("Runbook", alert.runbook_url),
            ("Dashboard", alert.dashboard_url),
            ("Panel", alert.panel_url),
            ("Source", alert.generator_url),
        )
        if url
    ]
    return {
        "summary": alert.title,
        "source": source,
        "component": labels.get("service") or labels.get("job"),
        "group": labels.get("team"),
        "event_class": labels.get("alertname"),
        "timestamp": alert.starts_at,
        "custom_details": details,
        "links": links,
    }
