"""The paging benchmark's core runs end to end in its quick shape and reports every figure (timings are not
asserted here: they belong to the benchmark's own table)."""

from __future__ import annotations

from benchmarks import paging as bench


def test_quick_run_reports_latency_cases_and_the_storm(monkeypatch):
    monkeypatch.setenv("FIREWATCH_WEBHOOK_TOKEN", bench.TOKEN)  # restored afterwards
    figures = bench.run_cases(2, storm_alerts=40)
    assert [row["case"] for row in figures["latency"]] == ["baseline", "slow", "ratelimited"]
    for row in figures["latency"]:
        assert row["groups"] == 2 and 0 < row["p50"] <= row["p99"]
    storm = figures["storm"]
    # One page and one page DM per group, however many alerts: the storm does not become 40 pages.
    assert (storm["alerts"], storm["groups"], storm["pages"], storm["dms"]) == (40, 20, 20, 20)
    assert storm["by_method"]["conversations.create"] == 20
    assert storm["slack_calls"] == sum(storm["by_method"].values())
