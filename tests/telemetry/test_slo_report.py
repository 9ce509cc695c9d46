"""SLO budget and burn from Prometheus answers (respx, documented vector shape), against values worked by hand,
and `firewatch slo report`."""

from __future__ import annotations

import re

import httpx
import respx
import yaml
from click.testing import CliRunner

from bot.telemetry.domain.config import PrometheusConfig, SloConfig
from bot.telemetry.prometheus import PrometheusClient
from bot.telemetry.slo import slo_report

URL = "http://prometheus.invalid:9090"
SLO = SloConfig(name="checkout-availability", service="checkout", objective=0.999, window_days=28,
                good='sum(increase(http_requests_total{code!~"5.."}[$window]))',
                total="sum(increase(http_requests_total[$window]))")
# window -> (good, total). 28d: 1 000 000 requests, 400 bad: 40 % of the 1 000-request budget spent.
COUNTS = {"28d": (999_600, 1_000_000), "1h": (9_800, 10_000), "5m": (970, 1_000),
          "6h": (59_000, 60_000), "30m": (4_900, 5_000)}


def answer(request: httpx.Request) -> httpx.Response:
    query = request.url.params["query"]
    window = re.search(r"\[(\w+)\]", query).group(1)
    good, total = COUNTS[window]
    value = total if "code!~" not in query else good
    return httpx.Response(200, json={"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {}, "value": [1700000000, str(value)]}]}})


@respx.mock
def test_budget_and_burn_by_hand():
    respx.get(f"{URL}/api/v1/query").mock(side_effect=answer)
    r = slo_report(PrometheusClient(PrometheusConfig(url=URL)), SLO)
    assert r.error is None
    assert abs(r.budget_remaining - 0.6) < 1e-9
    # error ratios 2 %, 3 %, 1.667 %, 2 % over a 0.1 % budget: 20x, 30x, 16.7x, 20x -> 1h/5m both above 14.4.
    assert {w: round(v, 1) for w, v in r.burn.rates.items()} == {"1h": 20.0, "5m": 30.0, "6h": 16.7, "30m": 20.0}
    assert r.burn.status == "fast burn"


@respx.mock
def test_cli_report(tmp_path):
    from bot.cli import main

    respx.get(f"{URL}/api/v1/query").mock(side_effect=answer)
    cfg = tmp_path / "firewatch.yaml"
    cfg.write_text(yaml.safe_dump({"services": [{"name": "checkout"}], "evidence": {"prometheus": {"url": URL}},
                                   "slos": [SLO.model_dump()]}))
    result = CliRunner().invoke(main, ["slo", "report", "--config", str(cfg)])
    assert result.exit_code == 1, result.output
    assert "checkout-availability (checkout, objective 99.900% over 28d): budget left 60.0%" in result.output
    assert "1h 20.0x 5m 30.0x" in result.output and result.output.strip().endswith("fast burn")


def test_unknown_service_is_a_config_error():
    import pytest
    from pydantic import ValidationError

    from bot.config import FirewatchConfig

    with pytest.raises(ValidationError, match="slos\\[0\\].service: unknown service 'nope'; add it under `services:`"):
        FirewatchConfig.model_validate({"slos": [{"name": "x", "service": "nope"}]})
