"""Triage/RCA benchmark: `python -m benchmarks.triage [--live] [--json out.json]`.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
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
    if args.json:
        results["rows"] = {"llm": llm.rows, "heuristic": heur.rows}
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
