"""Burn rate feeds the severity suggestion (thresholds in bot.assist.domain.budget) and the triage message shows
the budget impact; Prometheus answers through respx in its documented vector shape."""

from __future__ import annotations

import copy
import re

import httpx
import pytest
import respx

from bot.assist.domain import EvidenceItem, SeverityOption, TriageSuggestion
from bot.assist.domain.budget import apply_burn, budget_line, burn_level
from tests.assist.conftest import CONFIG, dump, wait_triage

URL = "http://prometheus.invalid:9090"
SEVERITIES = [SeverityOption(n) for n in ("sev1", "sev2", "sev3", "sev4")]


def slo_item(**rates: float) -> EvidenceItem:
    labels = {"slo": "checkout-availability", "window": "28-day", "budget_remaining": "0.6",
              **{f"burn_{w}": str(rates.get(w, 0.0)) for w in ("1h", "5m", "6h", "30m")}}
    return EvidenceItem("E2", "metric", "SLO burn", labels=labels)


def suggestion(severity: str) -> TriageSuggestion:
    return TriageSuggestion(severity, [], None, "", [], 0.3, ["E1"], "heuristic")


@pytest.mark.parametrize("rates,level", [
    ({"1h": 80, "5m": 75}, 1),                       # both above 72: a month's budget gone in under 10 h
    ({"1h": 20, "5m": 30}, 2),                       # both above 14.4: the workbook's fast-burn page
    ({"1h": 20, "5m": 10, "6h": 16.7, "30m": 20}, 3),  # 5 m below 14.4 (burn easing): slow burn only
    ({"1h": 20, "5m": 30.0, "6h": 0, "30m": 0}, 2),
    ({"1h": 5, "5m": 5, "6h": 5, "30m": 5}, None),   # below every threshold
])
def test_burn_levels(rates, level):
    found = burn_level(slo_item(**rates))
    assert (found[0] if found else None) == level


def test_burn_raises_severity_cites_it_and_never_lowers():
    raised = apply_burn(suggestion("sev3"), [slo_item(**{"1h": 14.4, "5m": 15})], SEVERITIES)
    assert raised.severity == "sev2" and raised.evidence_ids == ["E1", "E2"]
    assert "budget burning 14× (1 h) → sev2 · 60% of the 28-day budget left" in raised.note
    kept = apply_burn(suggestion("sev1"), [slo_item(**{"1h": 20, "5m": 30})], SEVERITIES)
    assert kept.severity == "sev1" and "E2" in kept.evidence_ids and kept.note == ""
    assert budget_line(slo_item(**{"1h": 3.2}), None) == ("checkout-availability: budget burning 3× (1 h) "
                                                          "· 60% of the 28-day budget left")


# window -> (good, total); hand-worked: 28d 400 bad of 1 000 000 at 99.9 % -> 60 % of the budget left;
# 1h 2 % errors / 0.1 % = 20x, 5m 3 % = 30x: fast burn -> sev2.
COUNTS = {"28d": (999_600, 1_000_000), "1h": (9_800, 10_000), "5m": (970, 1_000),
          "6h": (59_000, 60_000), "30m": (4_900, 5_000)}


def answer(request: httpx.Request) -> httpx.Response:
    query = request.url.params["query"]
    if "$" in query or "[" not in query:
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": []}})
    good, total = COUNTS[re.search(r"\[(\w+)\]", query).group(1)]
    value = good if "code!~" in query else total
    return httpx.Response(200, json={"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {}, "value": [1700000000, str(value)]}]}})


def config() -> dict:
    cfg = copy.deepcopy(CONFIG)
    cfg["services"] = [{"name": "checkout"}]
    cfg["evidence"] = {"prometheus": {"url": URL}}
    cfg["slos"] = [{"name": "checkout-availability", "service": "checkout", "objective": 0.999, "window_days": 28,
                    "good": 'sum(increase(http_requests_total{code!~"5.."}[$window]))',
                    "total": "sum(increase(http_requests_total[$window]))"}]
    return cfg


def test_declare_with_fast_burn_suggests_sev2_and_shows_budget(harness_factory):
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()
        prom = router.get(f"{URL}/api/v1/query").mock(side_effect=answer)
        h = harness_factory(config())
        channel = h.declare("sev4 checkout is a bit odd")
        shown = dump(wait_triage(h, channel))
    assert prom.called
    assert "SEV2 (declared SEV4)" in shown
    assert "*Error budget*" in shown
    assert "checkout-availability: budget burning 20× (1 h) → sev2 · 60% of the 28-day budget left" in shown
