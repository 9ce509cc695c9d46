"""The benchmark runs offline on scripted replies and reports both paths."""

from __future__ import annotations

import json

from benchmarks.triage import SCENARIO_DIR, load_config, load_scenarios, main


def test_scenarios_load_and_changes_outside_window_are_not_evidence():
    scenarios = load_scenarios(SCENARIO_DIR, load_config(SCENARIO_DIR))
    assert len(scenarios) >= 8
    oom = next(s for s in scenarios if s.id == "worker-oom")
    assert not any(e.kind == "change" for e in oom.evidence)
    checkout = next(s for s in scenarios if s.id == "checkout-deploy")
    assert [e.kind for e in checkout.evidence if e.kind == "change"] == ["change"]  # other service filtered out


def test_benchmark_scripted_run_reports_llm_and_heuristic(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["--json", str(out)]) == 0
    results = json.loads(out.read_text())
    for path in ("llm", "heuristic"):
        assert results[path]["incidents"] >= 8
        assert 0 <= results[path]["severity_accuracy_pct"] <= 100
    assert results["llm"]["llm_calls"] > 0 and results["llm"]["tokens_per_incident"] > 0
    assert results["heuristic"]["llm_calls"] == 0 and results["heuristic"]["cost_per_incident"] is None
    # Scripted replies include an invented evidence id: citation checking must have caught it.
    assert results["llm"]["hypotheses_valid_citations_pct"] < 100
    # One scenario's model reply echoes <!channel> from an injected alert: nothing displayable may still notify.
    assert results["llm"]["unsafe_mention_strings"] == 0 and results["heuristic"]["unsafe_mention_strings"] == 0
    assert "Heuristic baseline" in capsys.readouterr().out


def test_metric_scenarios_replay_recordings_and_score_both_paths():
    from benchmarks.triage import METRIC_DIR, detect, load_metric_scenarios, run_metric_scenarios

    scenarios = {s.id: s for s in load_metric_scenarios(METRIC_DIR)}
    quiet, checkout = scenarios["m4-quiet"], scenarios["m1-checkout-errors"]
    assert detect(quiet, quiet.start) == []  # noise and a one-scrape spike are not findings
    # Before the injected change nothing moved; one scrape after it the moved series is found and ranked first.
    assert detect(checkout, checkout.injected_at - 15) == []
    first = detect(checkout, checkout.injected_at + 15)[0]
    assert (first.query, first.labels) == ("job:errors:ratio5m", {"service": "payments-api"})
    results = run_metric_scenarios(METRIC_DIR, lambda line: None)
    rows = {r["scenario"]: r for r in results["rows"]}
    assert rows["m4-quiet"]["findings"] == 0 and rows["m4-quiet"]["lag_stats_s"] is None
    assert rows["m1-checkout-errors"]["top1"] and rows["m1-checkout-errors"]["lag_stats_s"] <= 15
    for path in ("statistics", "with_scripted_llm"):
        assert 0 <= results[path]["precision_pct"] <= 100 and 0 <= results[path]["recall_pct"] <= 100
    # The quiet scenario's old change still gets a scripted hypothesis: the LLM path is less precise.
    assert results["with_scripted_llm"]["precision_pct"] < 100
