"""Cited evidence re-checked before display: a hypothesis citing evidence whose checker fails (or raises) is
withheld; evidence kinds without a checker (stored records) hold."""

from __future__ import annotations

from types import SimpleNamespace

from bot.assist.domain import EvidenceItem, Incident
from bot.assist.domain.models import Hypothesis, RcaResult
from bot.assist.evidence import EvidenceBundle
from bot.assist.service import recheck_citations
from bot.context import Services


def hyp(rank: int, ids: list[str]) -> Hypothesis:
    return Hypothesis(rank, f"hypothesis {rank}", ids, 0.6, "c", "r", "n")


def bundle() -> EvidenceBundle:
    items = [EvidenceItem("E1", "change", "deploy 2.4.1"), EvidenceItem("E2", "metric", "errors up", labels={"q": "a"}),
             EvidenceItem("E3", "metric", "latency up", labels={"q": "b"})]
    return EvidenceBundle(1, Incident("t"), items, [{"id": i.id} for i in items])


def ctx_with(checker) -> SimpleNamespace:
    services = Services()
    services.evidence_checkers["metric"] = checker
    return SimpleNamespace(services=services)


def test_failing_and_raising_checkers_withhold_their_hypotheses():
    calls = []

    def checker(ctx, item):
        calls.append(item.id)
        if item.id == "E3":
            raise RuntimeError("prometheus down")
        return item.id == "E2"

    result = RcaResult([hyp(1, ["E3"]), hyp(2, ["E1", "E2"]), hyp(3, ["E2"]), hyp(4, ["E1", "E3"])], False, "llm",
                       note="LLM reply repaired after one invalid attempt", proposed=4)
    out = recheck_citations(ctx_with(checker), bundle(), result)
    assert [(h.rank, h.statement) for h in out.hypotheses] == [(1, "hypothesis 2"), (2, "hypothesis 3")]
    assert out.dropped_hypotheses == 2 and not out.inconclusive
    assert out.note == ("LLM reply repaired after one invalid attempt; 2 hypothesis(es) withheld: cited evidence no "
                        "longer holds when re-checked")
    assert sorted(calls) == ["E2", "E3"]  # each cited item re-checked once


def test_all_withheld_is_inconclusive_and_nothing_to_check_is_unchanged():
    result = RcaResult([hyp(1, ["E2"])], False, "llm")
    out = recheck_citations(ctx_with(lambda ctx, item: False), bundle(), result)
    assert out.hypotheses == [] and out.inconclusive
    kept = RcaResult([hyp(1, ["E1"])], False, "heuristic")
    assert recheck_citations(ctx_with(lambda ctx, item: False), bundle(), kept) is kept
