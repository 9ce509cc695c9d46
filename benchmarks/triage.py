"""Triage/RCA benchmark: `python -m benchmarks.triage [--live] [--json out.json]`.

Metric scenarios (`benchmarks/scenarios/metrics/`: recorded `query_range` bodies replayed through the real Prometheus
client, offline) report detection precision/recall, how often a moved series ranks first, and time-to-first-finding
(seconds from the injected change to the first scrape at which it is found) for the statistics alone and for the
scripted LLM's hypotheses over those findings (hypotheses citing a metric that no longer holds are withheld).

Runs every scenario in `benchmarks/scenarios/` through the real pipeline (evidence assembly with change selection
and BM25 similar incidents, redaction, prompts, validation, citation checks, fallbacks) twice: once on the LLM path and
once with the heuristic only, and reports severity/owner accuracy, the share of hypotheses whose citations were all
valid, whether the top hypothesis rests on the evidence of the known cause, and tokens and cost per incident.

By default the "model" is the scenario's scripted replies served through an `httpx.MockTransport` (no network);
token counts are then estimated as characters/4 of request and reply and labelled as estimates. With `--live`,
requests go to the OpenAI-compatible endpoint configured by OPENAI_BASE_URL / OPENAI_API_KEY / FIREWATCH_LLM_MODEL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from statistics import median
from typing import Any

import httpx
import yaml

from bot.assist.domain import (
    ChangeEvent,
    EvidenceItem,
    Incident,
    LLMConfig,
    PastDoc,
    RcaResult,
    RotationOption,
    SeverityOption,
    TriageSuggestion,
    Usage,
    changes_as_evidence,
    number_evidence,
    rca,
    resolve_settings,
    select_changes,
    similar,
    similar_as_evidence,
    triage,
)
from bot.assist.llm_client import LLMClient
from bot.devtools.scripted_llm import scripted_client
from bot.telemetry.domain.anomaly import Finding, find_anomalies, still_holds
from bot.telemetry.domain.config import PrometheusConfig
from bot.telemetry.prometheus import PrometheusClient
from bot.telemetry.service import MAX_FINDINGS, finding_evidence

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
SCRIPTED_MODEL = "scripted-replies"


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass
class Scenario:
    id: str
    incident: Incident
    evidence: list[EvidenceItem]
    known_cause: str
    expected_severity: str
    expected_owner: str | None
    scripted: dict[str, list[dict[str, Any]]]


def load_config(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "_config.yaml").read_text(encoding="utf-8"))


def build_scenario(data: dict[str, Any], config: dict[str, Any]) -> Scenario:
    """Assemble evidence the way the bot does: alerts, recent changes, timeline, messages, similar incidents."""
    inc = data["incident"]
    incident = Incident(inc["title"], inc.get("description", ""), inc.get("severity"), inc.get("status"),
                        _time(inc.get("started_at")))
    items: list[EvidenceItem | tuple] = []
    alert_services: list[str] = []
    for a in data.get("alerts", []):
        labels = {k: str(v) for k, v in (a.get("labels") or {}).items()}
        if "service" in labels:
            alert_services.append(labels["service"])
        items.append(EvidenceItem("E1", "alert", a["text"], a.get("url"), _time(a.get("time")), labels))
    changes = [ChangeEvent.model_validate(c) for c in data.get("changes", [])]
    # Changes to services related to the alerting ones: the alerts' services plus those of their rotations.
    related = set(alert_services)
    for r in config["rotations"]:
        if related & set(r.get("services", [])):
            related |= set(r["services"])
    picked = select_changes(changes, sorted(related) or None, incident.started_at, config.get("change_window_hours", 6))
    items.extend(changes_as_evidence(picked))
    for t in data.get("timeline", []):
        items.append(("timeline", t["text"], t.get("url"), _time(t.get("time"))))
    for m in data.get("messages", []):
        items.append(("message", m["text"], m.get("url"), _time(m.get("time"))))
    corpus = [PastDoc(d["id"], d["title"], d["text"], d.get("url")) for d in config["past_incidents"]]
    query = " ".join([incident.title, incident.description] + [a["text"] for a in data.get("alerts", [])])
    matches = similar(query, corpus, k=config.get("similar_top_k", 2), relative_cutoff=config.get("similar_cutoff", 0.0))
    items.extend(similar_as_evidence(matches))
    expected = data["expected"]
    return Scenario(data["id"], incident, number_evidence(items), data["known_cause"], expected["severity"],
                    expected.get("owner"), data.get("scripted", {}))


def load_scenarios(directory: Path, config: dict[str, Any]) -> list[Scenario]:
    return [
        build_scenario(yaml.safe_load(p.read_text(encoding="utf-8")), config)
        for p in sorted(directory.glob("*.yaml"))
        if not p.name.startswith("_")
    ]


def scripted_transport(scripted: dict[str, list[dict[str, Any]]]) -> httpx.MockTransport:
    """Serve each purpose's replies in order; usage is estimated from characters (≈4 per token)."""
    queues = {k: list(v) for k, v in scripted.items()}

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        fmt = body.get("response_format", {})
        purpose = fmt.get("json_schema", {}).get("name") or (
            "rca" if "root-cause" in body["messages"][0]["content"] else "triage"
        )
        queue = queues.get(purpose) or [{"reply": {"inconclusive": True, "summary": "", "hypotheses": []}}]
        step = queue.pop(0) if len(queue) > 1 else queue[0]
        if "status" in step:
            return httpx.Response(step["status"], json={"error": {"message": "scripted failure"}})
        content = step["raw"] if "raw" in step else json.dumps(step["reply"])
        prompt_tokens = len(request.content) // 4
        completion_tokens = max(1, len(content) // 4)
        return httpx.Response(200, json={
            "id": "bench", "object": "chat.completion", "created": 0, "model": SCRIPTED_MODEL,
            "choices": [{"index": 0, "finish_reason": step.get("finish_reason", "stop"),
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })

    return httpx.MockTransport(handler)


@dataclass
class PathResult:
    triage: TriageSuggestion
    rca: RcaResult

    @property
    def usage(self) -> Usage:
        return self.triage.usage + self.rca.usage


@dataclass
class Totals:
    n: int = 0
    severity_ok: int = 0
    owner_ok: int = 0
    proposed: int = 0
    fully_cited: int = 0
    cause_hits: int = 0
    fallbacks: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_known: int = 0
    unsafe_strings: int = 0  # displayed strings still containing a Slack mention/broadcast sequence (must be 0)
    rows: list[dict[str, Any]] = field(default_factory=list)


def cause_hit(result: RcaResult, scenario: Scenario) -> bool:
    """Does the top hypothesis rest on the evidence that contains the known cause?"""
    if not result.hypotheses:
        return False
    cause_ids = {e.id for e in scenario.evidence if scenario.known_cause.lower() in e.text.lower()}
    return bool(cause_ids & set(result.hypotheses[0].evidence_ids))


def run_path(scenario: Scenario, sev: list[SeverityOption], rot: list[RotationOption], client: LLMClient | None) -> PathResult:
    return PathResult(triage(scenario.incident, scenario.evidence, sev, rot, client),
                      rca(scenario.incident, scenario.evidence, client))


def accumulate(t: Totals, s: Scenario, r: PathResult, prices: tuple[float, float]) -> None:
    t.n += 1
    t.severity_ok += r.triage.severity == s.expected_severity
    t.owner_ok += r.triage.suggested_owner == s.expected_owner
    t.proposed += r.rca.proposed
    t.fully_cited += r.rca.fully_cited
    t.cause_hits += cause_hit(r.rca, s)
    t.calls += r.triage.llm_calls + r.rca.llm_calls
    llm_attempted = r.triage.llm_calls + r.rca.llm_calls > 0
    t.fallbacks += llm_attempted and r.triage.source == "heuristic"
    shown = [r.triage.summary, *r.triage.affected_services, *(x.text for x in r.triage.first_steps), r.rca.summary]
    shown += [f"{h.statement} {h.confirm} {h.refute} {h.next_check}" for h in r.rca.hypotheses]
    t.unsafe_strings += sum(1 for text in shown if "<!" in text or "<@" in text or "@channel" in text)
    u = r.usage
    if u.prompt_tokens is not None or u.completion_tokens is not None:
        t.usage_known += 1
        t.prompt_tokens += u.prompt_tokens or 0
        t.completion_tokens += u.completion_tokens or 0
    t.rows.append({
        "scenario": s.id,
        "expected": f"{s.expected_severity}/{s.expected_owner}",
        "got": f"{r.triage.severity}/{r.triage.suggested_owner}",
        "source": f"{r.triage.source}/{r.rca.source}",
        "hypotheses": f"{r.rca.fully_cited}/{r.rca.proposed}" + (" inconclusive" if r.rca.inconclusive else ""),
        "cause": "hit" if cause_hit(r.rca, s) else "-",
        "calls": r.triage.llm_calls + r.rca.llm_calls,
        "tokens": u.total_tokens,
        "cost": u.cost(*prices),
        "note": "; ".join(dict.fromkeys(x for x in (r.triage.note, r.rca.note) if x)),
    })


def summary(t: Totals, prices: tuple[float, float]) -> dict[str, Any]:
    pct = lambda a, b: round(100 * a / b, 1) if b else None  # noqa: E731
    per = t.usage_known or 1
    cost = (t.prompt_tokens / 1000 * prices[0] + t.completion_tokens / 1000 * prices[1]) / per
    return {
        "incidents": t.n,
        "severity_accuracy_pct": pct(t.severity_ok, t.n),
        "owner_accuracy_pct": pct(t.owner_ok, t.n),
        "hypotheses_valid_citations_pct": pct(t.fully_cited, t.proposed),
        "hypotheses_proposed": t.proposed,
        "top_hypothesis_on_known_cause_pct": pct(t.cause_hits, t.n),
        "unsafe_mention_strings": t.unsafe_strings,
        "llm_calls": t.calls,
        "fell_back_to_heuristic": t.fallbacks,
        "tokens_per_incident": round((t.prompt_tokens + t.completion_tokens) / per, 1) if t.usage_known else None,
        "prompt_tokens_per_incident": round(t.prompt_tokens / per, 1) if t.usage_known else None,
        "completion_tokens_per_incident": round(t.completion_tokens / per, 1) if t.usage_known else None,
        "cost_per_incident": round(cost, 6) if t.usage_known else None,
    }


def print_table(title: str, t: Totals, out: Callable[[str], None]) -> None:
    out(f"\n== {title}")
    cols = ["scenario", "expected", "got", "source", "hypotheses", "cause", "calls", "tokens", "cost", "note"]
    widths = {c: max(len(c), *(len(_fmt(r[c])) for r in t.rows)) for c in cols[:-1]}
    out("  ".join(c.ljust(widths.get(c, 0)) for c in cols))
    for r in t.rows:
        out("  ".join(_fmt(r[c]).ljust(widths.get(c, 0)) for c in cols))


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.6f}" if abs(v) < 0.01 else f"{v:g}"
    return str(v)


# -- metric scenarios: recorded series replayed through the real Prometheus client -------------------------------

METRIC_DIR = SCENARIO_DIR / "metrics"
SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


def series_key(query: str, labels: dict[str, str]) -> SeriesKey:
    return query, tuple(sorted((str(k), str(v)) for k, v in labels.items()))


@dataclass
class MetricScenario:
    id: str
    incident: Incident
    context: list[EvidenceItem]  # alerts and changes (metric items are added per run)
    recorded: dict[str, dict[str, Any]]  # query -> Prometheus query_range body
    moved: set[SeriesKey]
    injected_at: float | None
    known_cause: str | None

    @property
    def start(self) -> float:
        assert self.incident.started_at is not None
        return self.incident.started_at.timestamp()


def load_metric_scenarios(directory: Path) -> list[MetricScenario]:
    out = []
    for p in sorted(directory.glob("*.yaml")):
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
        inc = d["incident"]
        incident = Incident(inc["title"], inc.get("description", ""), None, None, _time(inc["started_at"]))
        items: list[EvidenceItem] = [EvidenceItem("E1", "alert", a["text"], None, _time(a.get("time")),
                                                  {k: str(v) for k, v in (a.get("labels") or {}).items()})
                                     for a in d.get("alerts") or []]
        items += changes_as_evidence([ChangeEvent.model_validate(c) for c in d.get("changes") or []])
        injected = _time(d.get("injected_at"))
        out.append(MetricScenario(d["id"], incident, items, json.loads(p.with_suffix(".json").read_text("utf-8")),
                                  {series_key(m["query"], m["labels"]) for m in d.get("moved") or []},
                                  injected.timestamp() if injected else None, d.get("known_cause")))
    return out


def recorded_transport(recorded: dict[str, dict[str, Any]], now: float) -> httpx.MockTransport:
    """`/api/v1/query_range` answers from the recording cut at `now`; `/api/v1/query` gives each series' value at
    `now` (what a re-check sees)."""
    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        body = recorded.get(params["query"])
        if body is None:
            return httpx.Response(400, json={"status": "error", "errorType": "bad_data", "error": "unknown query"})
        rows = body["data"]["result"]
        if request.url.path.endswith("/query_range"):
            lo, hi = float(params["start"]), min(float(params["end"]), now)
            result = [{"metric": r["metric"], "values": [v for v in r["values"] if lo <= v[0] <= hi]} for r in rows]
            return httpx.Response(200, json={"status": "success", "data": {"resultType": "matrix", "result": result}})
        result = [{"metric": r["metric"], "value": [t, v]} for r in rows
                  for t, v in [max((x for x in r["values"] if x[0] <= now), key=lambda x: x[0])]]
        return httpx.Response(200, json={"status": "success", "data": {"resultType": "vector", "result": result}})

    return httpx.MockTransport(handler)


def _prometheus(s: MetricScenario, now: float) -> PrometheusClient:
    cfg = PrometheusConfig(url="http://recorded.invalid")
    return PrometheusClient(cfg, http_client=httpx.Client(transport=recorded_transport(s.recorded, now)))


def detect(s: MetricScenario, now: float) -> list[Finding]:
    """What `bot.telemetry.service.findings` computes, over the recording as it stood at `now`."""
    prom = _prometheus(s, now)
    cfg = prom.config
    begin, end = s.start - cfg.lookback_seconds, min(now, s.start + cfg.lookahead_seconds)
    series = [x for q in s.recorded for x in prom.query_range(q, begin, end)]
    return find_anomalies(series, s.start, baseline_until=s.start - cfg.lookback_seconds / 2, limit=MAX_FINDINGS)


def holds_now(s: MetricScenario, item: EvidenceItem, now: float) -> bool:
    """The re-check of a cited metric item: its query run again at `now` still shows the effect."""
    rows = _prometheus(s, now).query(item.labels["query"])
    wanted = json.loads(item.labels["series"])
    current = next((v for labels, v in rows if labels == wanted), None)
    return current is not None and still_holds(float(item.labels["baseline"]), float(item.labels["after"]), current)


def hypotheses_with_llm(s: MetricScenario, found: list[Finding], now: float) -> tuple[list[list[EvidenceItem]], int]:
    """Scripted-LLM RCA over alerts, changes and the findings; hypotheses citing metrics that no longer hold are
    withheld. Returns (cited items of each shown hypothesis, withheld count)."""
    items = number_evidence([*s.context, *(finding_evidence(f) for f in found)])
    client, _ = scripted_client()
    result = rca(s.incident, items, client)
    by_id = {e.id: e for e in items}
    shown, withheld = [], 0
    for h in result.hypotheses:
        cited = [by_id[i] for i in h.evidence_ids if i in by_id]
        if all(holds_now(s, e, now) for e in cited if e.kind == "metric"):
            shown.append(cited)
        else:
            withheld += 1
    return shown, withheld


def is_true(s: MetricScenario, e: EvidenceItem) -> bool:
    """A cited item points at the injected cause: a series that moved, or the change naming the known cause."""
    if e.kind == "metric":
        return series_key(e.labels["query"], json.loads(e.labels["series"])) in s.moved
    return e.kind == "change" and bool(s.known_cause) and s.known_cause.lower() in e.text.lower()


SWEEP_STEP = 15.0  # the recordings' scrape interval


def first_finding_lag(s: MetricScenario, found_true: Callable[[float], bool]) -> float | None:
    """Seconds from the injected change to the first `now` (scrape by scrape) at which `found_true(now)` holds."""
    if s.injected_at is None:
        return None
    now = s.injected_at
    while now <= s.start + PrometheusConfig(url="http://x").lookahead_seconds:
        if found_true(now):
            return round(now - s.injected_at)
        now += SWEEP_STEP
    return None


def _stats_true(s: MetricScenario, now: float) -> bool:
    return any(series_key(f.query, f.labels) in s.moved for f in detect(s, now))


def _llm_true(s: MetricScenario, now: float) -> bool:
    shown, _ = hypotheses_with_llm(s, detect(s, now), now)
    return bool(shown) and any(is_true(s, e) for e in shown[0] if e.kind != "alert")


def metric_row(s: MetricScenario) -> dict[str, Any]:
    """One scenario judged at declare time (now = start): findings, hypotheses, and the sweeps' lags."""
    t0 = time.perf_counter()
    found = detect(s, s.start)
    t1 = time.perf_counter()
    shown, withheld = hypotheses_with_llm(s, found, s.start)
    t2 = time.perf_counter()
    keys = [series_key(f.query, f.labels) for f in found]
    good_h = [any(is_true(s, e) for e in cited if e.kind != "alert") for cited in shown]
    return {
        "scenario": s.id, "moved": len(s.moved), "findings": len(found),
        "tp": sum(k in s.moved for k in keys), "fp": sum(k not in s.moved for k in keys),
        "fn": len(s.moved - set(keys)), "top1": bool(keys) and keys[0] in s.moved,
        "lag_stats_s": first_finding_lag(s, lambda now: _stats_true(s, now)),
        "hyp_shown": len(shown), "hyp_true": sum(good_h), "hyp_withheld": withheld,
        "top_hyp_true": bool(good_h) and good_h[0], "has_cause": bool(s.moved or s.known_cause),
        "lag_llm_s": first_finding_lag(s, lambda now: _llm_true(s, now)),
        "ms_stats": round((t1 - t0) * 1000, 2), "ms_llm": round((t2 - t0) * 1000, 2),
    }


def metric_summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    pct = lambda a, b: round(100 * a / b, 1) if b else None  # noqa: E731
    med = lambda xs: round(median(xs)) if xs else None  # noqa: E731
    tp, fp, fn = (sum(r[k] for r in rows) for k in ("tp", "fp", "fn"))
    caused = [r for r in rows if r["has_cause"]]
    shown, true_h = sum(r["hyp_shown"] for r in rows), sum(r["hyp_true"] for r in rows)
    ms_stats, ms_llm = sum(r["ms_stats"] for r in rows), sum(r["ms_llm"] for r in rows)
    return {
        "statistics": {"precision_pct": pct(tp, tp + fp), "recall_pct": pct(tp, tp + fn),
                       "ranked_first_pct": pct(sum(r["top1"] for r in caused), len(caused)),
                       "median_time_to_first_finding_s": med([r["lag_stats_s"] for r in caused
                                                              if r["lag_stats_s"] is not None]),
                       "ms_per_incident": round(ms_stats / len(rows), 2)},
        "with_scripted_llm": {"precision_pct": pct(true_h, shown),
                              "recall_pct": pct(sum(r["top_hyp_true"] for r in caused), len(caused)),
                              "withheld_by_recheck": sum(r["hyp_withheld"] for r in rows),
                              "median_time_to_first_finding_s": med([r["lag_llm_s"] for r in caused
                                                                     if r["lag_llm_s"] is not None]),
                              "ms_per_incident": round(ms_llm / len(rows), 2),
                              "time_vs_statistics_x": round(ms_llm / ms_stats, 1) if ms_stats else None},
    }


def run_metric_scenarios(directory: Path, out: Callable[[str], None]) -> dict[str, Any]:
    rows = [metric_row(s) for s in load_metric_scenarios(directory)]
    out(f"\n== Metric scenarios ({len(rows)}; recorded series, judged at declare time)")
    cols = ["scenario", "moved", "findings", "tp", "fp", "fn", "top1", "lag_stats_s", "hyp_shown", "hyp_true",
            "hyp_withheld", "lag_llm_s"]
    widths = {c: max(len(c), *(len(_fmt(r[c])) for r in rows)) for c in cols}
    out("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        out("  ".join(_fmt(r[c]).ljust(widths[c]) for c in cols))
    result = metric_summary(rows)
    for path, figures in result.items():
        out(f"{path}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in figures.items()))
    return {**result, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--live", action="store_true", help="call the real endpoint from the environment")
    parser.add_argument("--scenarios", type=Path, default=SCENARIO_DIR)
    parser.add_argument("--price-prompt", type=float, help="price per 1k prompt tokens (default: scenarios config)")
    parser.add_argument("--price-completion", type=float, help="price per 1k completion tokens")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = parser.parse_args(argv)

    config = load_config(args.scenarios)
    prices = (
        args.price_prompt if args.price_prompt is not None else config["prices"]["prompt_per_1k"],
        args.price_completion if args.price_completion is not None else config["prices"]["completion_per_1k"],
    )
    severities = [SeverityOption(s["name"], s.get("description", "")) for s in config["severities"]]
    rotations = [RotationOption(r["name"], tuple(r.get("services", []))) for r in config["rotations"]]
    scenarios = load_scenarios(args.scenarios, config)

    live_settings = None
    if args.live:
        live_settings = resolve_settings(LLMConfig(max_retries=1, timeout_seconds=60))
        if live_settings is None:
            print("--live needs FIREWATCH_LLM_MODEL and OPENAI_BASE_URL or OPENAI_API_KEY", file=sys.stderr)
            return 2

    llm, heur = Totals(), Totals()
    for s in scenarios:
        if live_settings:
            client = LLMClient(live_settings)
        else:
            settings = resolve_settings(
                LLMConfig(base_url="http://scripted.invalid/v1", model=SCRIPTED_MODEL, max_retries=0,
                          retry_delay_seconds=0),
                env={},
            )
            assert settings is not None
            client = LLMClient(settings, httpx.Client(transport=scripted_transport(s.scripted)))
        accumulate(llm, s, run_path(s, severities, rotations, client), prices)
        accumulate(heur, s, run_path(s, severities, rotations, None), prices)

    mode = f"live ({live_settings.model})" if live_settings else "scripted replies, tokens estimated as chars/4"
    print(f"Firewatch triage benchmark — {len(scenarios)} scenarios — {mode}")
    print(f"prices per 1k tokens: prompt {prices[0]}, completion {prices[1]}")
    print_table("LLM path", llm, print)
    print_table("Heuristic baseline", heur, print)
    results = {"mode": mode, "prices_per_1k": prices, "llm": summary(llm, prices), "heuristic": summary(heur, prices)}
    print("\n== Summary")
    keys = list(results["llm"])
    width = max(len(k) for k in keys)
    print(f"{'metric'.ljust(width)}  {'llm':>12}  {'heuristic':>12}")
    for k in keys:
        print(f"{k.ljust(width)}  {_fmt(results['llm'][k]):>12}  {_fmt(results['heuristic'][k]):>12}")
    results["metrics"] = run_metric_scenarios(args.scenarios / "metrics", print)
    if args.json:
        results["rows"] = {"llm": llm.rows, "heuristic": heur.rows}
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
