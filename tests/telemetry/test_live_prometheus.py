"""End to end against a real Prometheus (1 s scrapes) scraping a loopback exporter whose error rate the test raises
at a known instant: the change is found within one scrape interval and ranked first, an RCA hypothesis citing it is
shown while it holds, and withheld once the re-run query no longer shows it."""

from __future__ import annotations

import copy
import re
import time

import httpx
import pytest
from sqlmodel import select

from bot.telemetry import service
from bot.telemetry.prometheus import PrometheusClient
from storage.models import Incident, SuggestionRecord
from tests.assist.conftest import CONFIG, by_task, completion, dump, wait_post
from tests.telemetry.conftest import SCRAPE_SECONDS

ERRORS = "irate(checkout_errors_total[3s])"  # last two samples: exactly the exporter's rate
QUEUE = "checkout_queue_depth"
LOOKBACK = 12.0


def config(url: str) -> dict:
    cfg = copy.deepcopy(CONFIG)
    cfg["services"] = [{"name": "checkout", "queries": [ERRORS, QUEUE]}]
    cfg["evidence"] = {"prometheus": {"url": url, "lookback_seconds": LOOKBACK, "lookahead_seconds": 60}}
    return cfg


def rca_reply(request: httpx.Request) -> httpx.Response:
    prompt = request.content.decode()
    metric = re.search(r'id=\\"(E\d+)\\" kind=\\"metric\\"', prompt).group(1)
    described = re.search(r'id=\\"(E\d+)\\" kind=\\"timeline\\"', prompt).group(1)
    hyp = {"confidence": 0.7, "confirm": "errors rose first", "refute": "errors flat", "next_check": "error logs"}
    return completion({"inconclusive": False, "summary": "Checkout errors jumped.", "hypotheses": [
        {**hyp, "statement": "Checkout error rate jumped tenfold", "evidence_ids": [metric]},
        {**hyp, "statement": "The incident was declared by the reporter", "evidence_ids": [described]}]})


def test_anomaly_found_ranked_first_and_stale_citation_withheld(harness_factory, llm_route, live_prometheus):
    prom, checkout = live_prometheus.url, live_prometheus.checkout
    llm_route.mock(side_effect=by_task(
        triage=completion({"severity": "sev2", "affected_services": ["checkout"], "suggested_owner": None,
                           "summary": "Checkout errors.", "first_steps": [], "confidence": 0.5, "evidence_ids": []}),
        rca=rca_reply))
    h = harness_factory(config(prom))
    time.sleep(LOOKBACK - 1)  # the scenario: Prometheus collects a quiet baseline first
    injected = checkout.set_error_rate(100.0)
    checkout.queue_depth = 6.0  # a smaller, less surprising move at the same time
    time.sleep(2.5)
    channel = h.declare("sev2 checkout payments failing with 500s")
    with h.ctx.session() as s:
        incident_id = s.exec(select(Incident).where(Incident.channel_id == channel)).one().id

    found = service.findings(h.ctx, incident_id)
    assert [f.query for f in found][:2] == [ERRORS, QUEUE]
    top = found[0]
    client = PrometheusClient(h.ctx.config.evidence.prometheus)
    step = client.step_for(injected - LOOKBACK, injected + 3)
    assert injected <= top.changed_at <= injected + SCRAPE_SECONDS + step
    # how much: from the 10/s baseline to well above it (the first irate straddles the change, so not exactly 100)
    assert top.baseline == pytest.approx(10.0, rel=0.05) and top.after > 50

    h.command("rca", channel=channel)
    shown = dump(wait_post(h, channel, "Root-cause hypotheses")[0])
    assert "Checkout error rate jumped tenfold" in shown and "The incident was declared by the reporter" in shown

    checkout.set_error_rate(10.0)
    time.sleep(4.5)  # rate[3s] back at the baseline everywhere in its window
    h.command("rca", channel=channel)
    second = dump(wait_post(h, channel, "withheld")[0])
    assert "Checkout error rate jumped tenfold" not in second
    assert "The incident was declared by the reporter" in second
    with h.ctx.session() as s:
        rows = s.exec(select(SuggestionRecord).where(SuggestionRecord.kind == "rca")
                      .order_by(SuggestionRecord.id)).all()
    assert [len(r.payload["hypotheses"]) for r in rows] == [2, 1]
    assert rows[1].payload["dropped_hypotheses"] == 1
