"""A small client for the Prometheus HTTP API (`/api/v1/query_range`, `/api/v1/query`), bounded in series, points and
time: the step is widened so no series has more than `max_points` points, at most `max_series` series are kept,
and every request has a timeout. Failures raise `PrometheusError` with a message fit for an operator."""

from __future__ import annotations

import math
import os
from typing import Any

import httpx

from bot.telemetry.domain.anomaly import Series
from bot.telemetry.domain.config import PrometheusConfig


class PrometheusError(RuntimeError):
    """A query that could not be answered, with the reason and what to check."""


class PrometheusUnavailable(PrometheusError):
    """The server did not answer at all (unreachable or timed out): further queries now would wait the same way."""


class PrometheusClient:
    def __init__(self, config: PrometheusConfig, *, http_client: httpx.Client | None = None) -> None:
        self.config = config
        headers = {}
        token = os.environ.get(config.token_env) if config.token_env else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._owned = http_client is None
        self._http = http_client or httpx.Client(timeout=config.timeout_seconds)
        self._headers = headers

    def close(self) -> None:
        if self._owned:
            self._http.close()

    def step_for(self, start: float, end: float) -> float:
        """The smallest step (in tenths of a second, at least 0.1 s) keeping every series within `max_points`."""
        return max(1, math.ceil(10 * (end - start) / max(self.config.max_points - 1, 1))) / 10

    def query_range(self, query: str, start: float, end: float, step: float | None = None) -> list[Series]:
        if end <= start:
            raise PrometheusError(f"query range ends ({end}) before it starts ({start})")
        step = max(step or 0.0, self.step_for(start, end))
        data = self._get("/api/v1/query_range", {"query": query, "start": start, "end": end, "step": step})
        if data.get("resultType") != "matrix":
            raise PrometheusError(f"`{query}` returned {data.get('resultType')!r}, expected a range (matrix)")
        return [Series(query, dict(r.get("metric") or {}), _points(r.get("values") or []))
                for r in (data.get("result") or [])[: self.config.max_series]]

    def query(self, query: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
        params: dict[str, Any] = {"query": query}
        if at is not None:
            params["time"] = at
        data = self._get("/api/v1/query", params)
        kind, result = data.get("resultType"), data.get("result") or []
        if kind == "scalar":
            return [({}, _number(result[1]))]
        if kind != "vector":
            raise PrometheusError(f"`{query}` returned {kind!r}, expected an instant vector")
        return [(dict(r.get("metric") or {}), _number(r["value"][1])) for r in result[: self.config.max_series]]

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        url = self.config.url + path
        try:
            resp = self._http.get(url, params={**params, "timeout": f"{self.config.timeout_seconds:g}s"},
                                  headers=self._headers, timeout=self.config.timeout_seconds)
        except httpx.TimeoutException as exc:
            raise PrometheusUnavailable(f"Prometheus at {self.config.url} did not answer within "
                                  f"{self.config.timeout_seconds:g}s; check evidence.prometheus.url") from exc
        except httpx.HTTPError as exc:
            raise PrometheusUnavailable(f"Prometheus at {self.config.url} is unreachable ({type(exc).__name__}); "
                                  "check evidence.prometheus.url") from exc
        if resp.status_code in (401, 403):
            raise PrometheusError(f"Prometheus refused the request ({resp.status_code}); check the token in "
                                  f"${self.config.token_env or '<evidence.prometheus.token_env>'}")
        try:
            body = resp.json()
        except ValueError:
            raise PrometheusError(f"Prometheus answered {resp.status_code} with a non-JSON body; is "
                                  f"{self.config.url} a Prometheus server?") from None
        if body.get("status") != "success":
            raise PrometheusError(f"Prometheus rejected `{params.get('query')}`: "
                                  f"{body.get('errorType', 'error')}: {str(body.get('error', ''))[:300]}")
        return body.get("data") or {}


def _number(value: Any) -> float:
    try:
        return float(value)  # Prometheus sends "NaN", "+Inf" as strings; float() reads them
    except (TypeError, ValueError):
        return math.nan


def _points(values: list[list[Any]]) -> list[tuple[float, float]]:
    out = [(float(t), _number(v)) for t, v in values]
    return [(t, v) for t, v in out if not math.isnan(v)]
