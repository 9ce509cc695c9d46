"""The Prometheus HTTP API client: documented response shapes (respx), bounds, and one clear error per failure."""

from __future__ import annotations

import httpx
import pytest
import respx

from bot.telemetry.domain.config import PrometheusConfig
from bot.telemetry.prometheus import PrometheusClient, PrometheusError

URL = "http://prometheus.invalid:9090"


def client(monkeypatch=None, **kw) -> PrometheusClient:
    return PrometheusClient(PrometheusConfig(url=URL, **kw))


@respx.mock
def test_query_range_bounds_points_and_series_and_sends_token(monkeypatch):
    monkeypatch.setenv("PROM_TOKEN", "s3cret")
    matrix = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {"pod": f"p{i}"}, "values": [[100, "1"], [160, "NaN"], [220, "3.5"]]} for i in range(5)]}}
    route = respx.get(f"{URL}/api/v1/query_range").mock(return_value=httpx.Response(200, json=matrix))
    c = PrometheusClient(PrometheusConfig(url=URL + "/", token_env="PROM_TOKEN", max_series=3, max_points=11))
    series = c.query_range("up", 0, 1000, step=1)
    params = route.calls[0].request.url.params
    assert float(params["step"]) == 100.0  # 1000 s in at most 11 points: the requested 1 s step is widened
    assert route.calls[0].request.headers["Authorization"] == "Bearer s3cret"
    assert len(series) == 3 and series[0].labels == {"pod": "p0"}
    assert series[0].points == [(100.0, 1.0), (220.0, 3.5)]  # NaN dropped


@respx.mock
def test_instant_query_vector():
    body = {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"job": "api"}, "value": [1700000000.5, "42"]}]}}
    respx.get(f"{URL}/api/v1/query").mock(return_value=httpx.Response(200, json=body))
    assert client().query("sum(up)") == [({"job": "api"}, 42.0)]


@pytest.mark.parametrize("response, message", [
    (httpx.Response(400, json={"status": "error", "errorType": "bad_data", "error": "parse error at char 4"}),
     "Prometheus rejected `up{`: bad_data: parse error at char 4"),
    (httpx.Response(401, text="unauthorized"), "check the token"),
    (httpx.Response(502, text="<html>bad gateway</html>"), "non-JSON body"),
])
@respx.mock
def test_errors_are_clear(response, message):
    respx.get(f"{URL}/api/v1/query").mock(return_value=response)
    with pytest.raises(PrometheusError, match=message.replace("{", r"\{").replace("`", "`")):
        client().query("up{")


@respx.mock
def test_unreachable_and_timeout():
    respx.get(f"{URL}/api/v1/query").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(PrometheusError, match="unreachable .*evidence.prometheus.url"):
        client().query("up")
    respx.get(f"{URL}/api/v1/query_range").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(PrometheusError, match="did not answer within 2s"):
        client(timeout_seconds=2).query_range("up", 0, 60)


def test_bad_range_and_config():
    with pytest.raises(PrometheusError, match="ends .* before it starts"):
        client().query_range("up", 10, 5)
    with pytest.raises(ValueError, match="not an http"):
        PrometheusConfig(url="prometheus:9090")
