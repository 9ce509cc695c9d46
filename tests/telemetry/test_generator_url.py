"""Alertmanager's generatorURL gives the alert's own expression: parsed (never requested) and run against the
configured Prometheus, which answers through respx in its documented matrix shape."""

from __future__ import annotations

import copy
from urllib.parse import quote

import httpx
import respx
from sqlmodel import select

from bot.telemetry import service
from bot.telemetry.domain.generator import alert_expressions, generator_expression
from storage.models import AlertRecord, Incident
from tests.assist.conftest import CONFIG, wait_triage

URL = "http://prometheus.invalid:9090"
CATALOG = "sum(rate(checkout_requests_total[1m]))"
ALERT_EXPR = 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m])) > 0.1'
FOREIGN_EXPR = "up == 0"


def graph_url(host: str, expr: str) -> str:
    return f"http://{host}/graph?g0.expr={quote(expr, safe='')}&g0.tab=1"


def test_generator_expression_parsing():
    # the shape Alertmanager sends (tests/paging/fixtures/alertmanager_firing.json)
    fixture = "http://localhost:9090/graph?g0.expr=vector%28666%29\u0026g0.tab=1"
    assert generator_expression(fixture, "http://localhost:9090") == "vector(666)"
    assert generator_expression(fixture, "http://LOCALHOST:9091/") == "vector(666)"  # the host is what counts
    assert generator_expression(fixture, "http://prometheus.invalid:9090") is None  # another host: not trusted
    assert generator_expression(fixture, "http://prometheus.invalid:9090", trust_any_host=True) == "vector(666)"
    assert generator_expression(graph_url("prometheus.invalid:9090", ALERT_EXPR), URL) == ALERT_EXPR
    for bad in ("", None, "javascript:alert(1)?g0.expr=up", "http://prometheus.invalid:9090/graph?g0.tab=1",
                "http://prometheus.invalid:9090/graph?g0.expr=" + "x" * 3000, "not a url"):
        assert generator_expression(bad, URL) is None
    urls = [graph_url("prometheus.invalid", f"up{{i=\"{i}\"}}") for i in range(8)]
    assert alert_expressions(urls + urls, URL, limit=5) == [f'up{{i="{i}"}}' for i in range(5)]


def config(trust: bool = False) -> dict:
    cfg = copy.deepcopy(CONFIG)
    cfg["services"] = [{"name": "checkout", "queries": [CATALOG]}]
    cfg["evidence"] = {"prometheus": {"url": URL, "lookback_seconds": 600, "lookahead_seconds": 60,
                                      "trust_generator_urls": trust}}
    return cfg


def answer(queried: list[str]):
    """A matrix for each query: flat at 1 until the middle of the range, then 50 for the alert's expression."""

    def respond(request: httpx.Request) -> httpx.Response:
        p = request.url.params
        query, start, end, step = p["query"], float(p["start"]), float(p["end"]), float(p["step"])
        queried.append(query)
        middle = end - 60
        jump = 50.0 if query == ALERT_EXPR else 1.0
        values, t = [], start
        while t <= end:
            values.append([t, str(jump if t >= middle else 1.0)])
            t += step
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"job": "checkout"}, "values": values}]}})

    return respond


def declare_with_alerts(h, urls: list[str]) -> int:
    channel = h.declare("sev2 checkout returning 500s")
    wait_triage(h, channel)
    with h.ctx.session() as s:
        incident = s.exec(select(Incident).where(Incident.channel_id == channel)).one()
        for i, url in enumerate(urls):
            s.add(AlertRecord(dedup_key=f"k{i}", fingerprint=f"f{i}", status="firing", source="alertmanager",
                              name="CheckoutErrors", incident_id=incident.id, labels={"alertname": "CheckoutErrors"},
                              payload={"alert": {"status": "firing", "generatorURL": url}}))
        return incident.id


def test_alert_expression_is_queried_against_configured_prometheus_only(harness_factory):
    queried: list[str] = []
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()
        router.get(f"{URL}/api/v1/query_range").mock(side_effect=answer(queried))
        router.get(f"{URL}/api/v1/query").mock(return_value=httpx.Response(200, json={
            "status": "success", "data": {"resultType": "vector", "result": []}}))
        foreign = router.route(host="metrics.elsewhere.example")
        h = harness_factory(config())
        incident_id = declare_with_alerts(h, [graph_url("prometheus.invalid:9090", ALERT_EXPR),
                                              graph_url("metrics.elsewhere.example:9090", FOREIGN_EXPR),
                                              graph_url("prometheus.invalid:9090", ALERT_EXPR)])
        queried.clear()
        found = service.findings(h.ctx, incident_id)
    assert queried == [CATALOG, ALERT_EXPR]  # the catalog's query, then the alert's own, once
    assert found and found[0].query == ALERT_EXPR and found[0].after == 50.0
    assert not foreign.called  # the URL from the webhook is never requested


def test_trust_generator_urls_takes_expressions_from_any_host(harness_factory):
    queried: list[str] = []
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()
        router.get(f"{URL}/api/v1/query_range").mock(side_effect=answer(queried))
        router.get(f"{URL}/api/v1/query").mock(return_value=httpx.Response(200, json={
            "status": "success", "data": {"resultType": "vector", "result": []}}))
        foreign = router.route(host="metrics.elsewhere.example")
        h = harness_factory(config(trust=True))
        incident_id = declare_with_alerts(h, [graph_url("metrics.elsewhere.example:9090", FOREIGN_EXPR)])
        queried.clear()
        service.findings(h.ctx, incident_id)
    assert queried == [CATALOG, FOREIGN_EXPR]
    assert not foreign.called
