"""Parsing Alertmanager and Grafana alerting webhooks into normalised `Alert`s.

Both senders use the same envelope (Alertmanager webhook "version 4"; Grafana's webhook contact point reuses it
with `version: "1"` and extra fields such as `orgId`, `title`, `state` and per-alert `dashboardURL`, `panelURL`,
`silenceURL`, `values`/`valueString`). Unknown fields are ignored, because both projects add keys over time.

Everything in a payload is untrusted: types are checked and a malformed payload raises `PayloadError`, which the
HTTP layer turns into a 400. Text is *not* escaped here; message builders do that when text reaches Slack.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

Source = Literal["alertmanager", "grafana"]
Status = Literal["firing", "resolved"]
_STATUSES = ("firing", "resolved")

# Annotation names people use for the same things; first present wins.
_SUMMARY_KEYS = ("summary", "title", "message", "description")
_RUNBOOK_KEYS = ("runbook_url", "runbook", "runbookURL", "runbook_link")
_DASHBOARD_KEYS = ("dashboard_url", "dashboard", "dashboardURL", "grafana_url")


class PayloadError(ValueError):
    """The webhook body is not a usable alert payload; the message says why (safe to return in a 400)."""


@dataclass(frozen=True, eq=True)
class Alert:
    """One alert from a webhook, in a sender-independent shape. All text is raw (unescaped)."""

    source: Source
    status: Status
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime | None  # tz-aware; None when absent
    ends_at: datetime | None  # tz-aware; None when absent or Alertmanager's "zero time" (still firing)
    generator_url: str | None = None
    runbook_url: str | None = None
    dashboard_url: str | None = None
    panel_url: str | None = None
    silence_url: str | None = None
    group_key: str = ""
    receiver: str = ""
    value_string: str | None = None  # Grafana: evaluated values, e.g. "[ var='B' value=44.2 ]"
    fingerprint_from_payload: bool = True

    __hash__ = None  # type: ignore[assignment]  # holds dicts; compare, don't hash

    @property
    def name(self) -> str:
        """The `alertname` label, or "alert" when the sender gave none."""
        return self.labels.get("alertname") or "alert"

    @property
    def summary(self) -> str:
        """One line for humans: the first of the summary/title/message/description annotations, else the name."""
        for key in _SUMMARY_KEYS:
            text = self.annotations.get(key, "").strip()
            if text:
                return text.splitlines()[0]
        return self.name

    @property
    def title(self) -> str:
        """`[FIRING] HighLatency: p99 over 2s` style title."""
        summary = self.summary
        head = f"[{self.status.upper()}] {self.name}"
        return head if summary == self.name else f"{head}: {summary}"

    @property
    def description(self) -> str:
        """Longer text (the description annotation) when it adds something beyond the summary."""
        text = self.annotations.get("description", "").strip()
        return "" if text == self.summary else text

    @property
    def firing(self) -> bool:
        return self.status == "firing"


@dataclass(frozen=True)
class AlertGroup:
    """One webhook delivery: a group of alerts that the sender grouped together, plus group-level data."""

    source: Source
    status: Status
    receiver: str
    group_key: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    external_url: str | None
    alerts: list[Alert] = field(default_factory=list)
    truncated_alerts: int = 0
    title: str | None = None  # Grafana's pre-rendered title, e.g. "[FIRING:2]  (blue)"
    org_id: int | None = None  # Grafana only

    __hash__ = None  # type: ignore[assignment]

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == "resolved"]


def label_fingerprint(labels: Mapping[str, str]) -> str:
    """Stable id for a label set (order-independent): first 16 hex digits of sha256 over the sorted labels.

    Used when the sender gives no `fingerprint` (Alertmanager before 0.19 did not). 16 hex digits matches the
    length of Alertmanager's own fingerprints, so stored keys look alike.
    """
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def dedup_key(alert: Alert) -> str:
    """Key under which a processed alert is stored, so a re-sent notification does not page again.

    fingerprint + status, plus the start time: Alertmanager re-sends a still-firing alert every
    `repeat_interval` with the same startsAt (must not page again), but when an alert resolves and later fires
    again it has the same fingerprint and a *new* startsAt (must page again).
    """
    start = alert.starts_at.astimezone(timezone.utc).isoformat() if alert.starts_at else "-"
    return f"{alert.fingerprint}:{alert.status}:{start}"


def group_identity(group: AlertGroup) -> str:
    """Key for "one incident per alert group": source, receiver and groupKey hashed together.

    The receiver is included because Grafana's groupKey is `{}:{}` for every ungrouped notification policy.
    """
    raw = json.dumps([group.source, group.receiver, group.group_key], separators=(",", ":"), ensure_ascii=False)
    return f"{group.source}:{hashlib.sha256(raw.encode('utf-8')).hexdigest()[:16]}"


def parse_webhook(
    body: bytes | str | Mapping[str, Any],
    *,
    source: Source | Literal["auto"] = "auto",
    max_alerts: int | None = None,
) -> AlertGroup:
    """Parse a webhook body (raw bytes/str or already-decoded JSON) into an `AlertGroup`.

    `source="auto"` recognises Grafana by its `orgId`/`state` fields; pass the source explicitly when the HTTP
    layer has one endpoint per sender. Raises `PayloadError` on anything malformed, including more than
    `max_alerts` alerts.
    """
    data = _decode(body)
    if source == "auto":
        source = "grafana" if ("orgId" in data or "state" in data) else "alertmanager"
    elif source not in ("alertmanager", "grafana"):
        raise ValueError(f"unknown alert source {source!r}")

    if "alerts" not in data:
        raise PayloadError("missing 'alerts': expected an Alertmanager or Grafana webhook payload")
    raw_alerts = data["alerts"]
    if not isinstance(raw_alerts, list):
        raise PayloadError(f"'alerts' must be a list, got {_type_name(raw_alerts)}")
    if max_alerts is not None and len(raw_alerts) > max_alerts:
        raise PayloadError(f"too many alerts in one request: {len(raw_alerts)} (the limit is {max_alerts})")

    receiver = _opt_str(data, "receiver", "") or ""
    group_key = _opt_str(data, "groupKey", "") or ""
    alerts = [_parse_alert(item, i, source, group_key, receiver) for i, item in enumerate(raw_alerts)]

    status = data.get("status")
    if status is None:
        # Same rule as Alertmanager: the group is firing while any of its alerts is.
        status = "firing" if any(a.firing for a in alerts) or not alerts else "resolved"
    elif status not in _STATUSES:
        raise PayloadError(f"'status' must be 'firing' or 'resolved', got {_short(status)}")

    return AlertGroup(
        source=source,
        status=status,
        receiver=receiver,
        group_key=group_key,
        group_labels=_str_map(data.get("groupLabels"), "groupLabels"),
        common_labels=_str_map(data.get("commonLabels"), "commonLabels"),
        common_annotations=_str_map(data.get("commonAnnotations"), "commonAnnotations"),
        external_url=_opt_str(data, "externalURL", None) or None,
        alerts=alerts,
        truncated_alerts=_opt_int(data, "truncatedAlerts"),
        title=_opt_str(data, "title", None) if source == "grafana" else None,
        org_id=_opt_int(data, "orgId") if "orgId" in data else None,
    )


def _decode(body: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, (bytes, bytearray)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError("body is not UTF-8 text") from None
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except json.JSONDecodeError as exc:
            raise PayloadError(f"body is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(body, Mapping):
        raise PayloadError(f"body must be a JSON object, got {_type_name(body)}")
    return body


def _parse_alert(item: Any, index: int, source: Source, group_key: str, receiver: str) -> Alert:
    where = f"alerts[{index}]"
    if not isinstance(item, Mapping):
        raise PayloadError(f"{where} must be an object, got {_type_name(item)}")
    if "status" not in item:
        raise PayloadError(f"{where} has no 'status'")
    status = item["status"]
    if status not in _STATUSES:
        raise PayloadError(f"{where}.status must be 'firing' or 'resolved', got {_short(status)}")
    if "labels" not in item:
        raise PayloadError(f"{where} has no 'labels'")
    labels = _str_map(item["labels"], f"{where}.labels")
    if not labels:
        raise PayloadError(f"{where}.labels is empty: an alert needs at least one label")
    annotations = _str_map(item.get("annotations"), f"{where}.annotations")

    fingerprint = _opt_str(item, "fingerprint", "", where) or ""
    from_payload = bool(fingerprint.strip())
    if not from_payload:
        fingerprint = label_fingerprint(labels)

    return Alert(
        source=source,
        status=status,
        fingerprint=fingerprint.strip(),
        labels=labels,
        annotations=annotations,
        starts_at=_time(item, "startsAt", where),
        ends_at=_time(item, "endsAt", where),
        generator_url=_opt_str(item, "generatorURL", None, where) or None,
        runbook_url=_first(annotations, _RUNBOOK_KEYS),
        dashboard_url=_opt_str(item, "dashboardURL", None, where) or _first(annotations, _DASHBOARD_KEYS),
        panel_url=_opt_str(item, "panelURL", None, where) or None,
        silence_url=_opt_str(item, "silenceURL", None, where) or None,
        group_key=group_key,
        receiver=receiver,
        value_string=_value_string(item, where),
        fingerprint_from_payload=from_payload,
    )


def _value_string(item: Mapping[str, Any], where: str) -> str | None:
    text = _opt_str(item, "valueString", None, where)
    if text:
        return text
    # Older Grafana versions (and the documented sample) send `values: {"B": 44.2, "C": 1}` instead.
    values = item.get("values")
    if isinstance(values, Mapping) and values:
        parts = [f"{k}={v}" for k, v in values.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)]
        return ", ".join(parts) or None
    return None


def _time(item: Mapping[str, Any], key: str, where: str) -> datetime | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}.{key} must be an RFC 3339 timestamp string, got {_type_name(value)}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{where}.{key} is not an RFC 3339 timestamp: {_short(value)}") from None
    if parsed.tzinfo is None:
        # RFC 3339 always carries an offset; a sender that drops it almost certainly means UTC.
        parsed = parsed.replace(tzinfo=timezone.utc)
    # Go's zero time.Time ("0001-01-01T00:00:00Z") means "not set" (a firing alert has no end yet).
    if parsed.year == 1:
        return None
    return parsed


def _str_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(f"'{where}' must be an object of strings, got {_type_name(value)}")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise PayloadError(f"'{where}.{_clip(str(k))}' must be a string, got {_type_name(v)}")
        out[str(k)] = v
    return out


def _opt_str(data: Mapping[str, Any], key: str, default: str | None, where: str = "") -> str | None:
    value = data.get(key, default)
    if value is None or isinstance(value, str):
        return value
    name = f"{where}.{key}" if where else key
    raise PayloadError(f"'{name}' must be a string, got {_type_name(value)}")


def _opt_int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"'{key}' must be an integer, got {_type_name(value)}")
    return value


def _first(mapping: Mapping[str, str], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = mapping.get(key, "").strip()
        if value:
            return value
    return None


def _type_name(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(value: Any) -> str:
    """repr of an untrusted value, shortened so error messages stay readable."""
    return _clip(repr(value))
