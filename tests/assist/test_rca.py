"""Root-cause suggestions: ranking, citation checking, inconclusive answers, failure fallback."""

from __future__ import annotations

import httpx
import respx

from bot.assist.domain import rca

from tests.assist.helpers import COMPLETIONS, EVIDENCE, INCIDENT, completion, make_client, request_bodies


def hyp(statement: str, ids: list[str], confidence: float = 0.6) -> dict:
    return {"statement": statement, "evidence_ids": ids, "confidence": confidence,
            "confirm": "errors began at deploy time", "refute": "errors predate the deploy",
            "next_check": "compare error rate around 11:40"}


@respx.mock
def test_ranked_hypotheses_with_valid_citations():
    reply = {"inconclusive": False, "summary": "Deploy 2.4.1 is the likely trigger.",
             "hypotheses": [hyp("Tokenizer switch in 2.4.1 breaks card payments", ["E2", "E1"], 0.75),
                            hyp("Upstream card network degradation", ["E1"], "low")]}
    route = respx.post(COMPLETIONS).mock(return_value=completion(reply))
    result = rca(INCIDENT, EVIDENCE, make_client())
    assert route.call_count == 1
    assert request_bodies(route)[0]["response_format"]["json_schema"]["name"] == "rca"
    assert result.source == "llm" and not result.inconclusive
    assert [h.rank for h in result.hypotheses] == [1, 2]
    assert result.hypotheses[0].evidence_ids == ["E2", "E1"]
    assert result.hypotheses[0].next_check == "compare error rate around 11:40"
    assert result.hypotheses[1].confidence == 0.25 and result.hypotheses[1].confidence_label == "low"
    assert (result.proposed, result.dropped_hypotheses, result.dropped_ids, result.fully_cited) == (2, 0, 0, 2)
    assert result.usage.total_tokens == 375


@respx.mock
def test_unknown_ids_are_stripped_and_hypotheses_with_only_unknown_ids_removed():
    reply = {"inconclusive": False, "summary": "",
             "hypotheses": [hyp("Made-up log line proves DNS failure", ["E42", "E77"], 0.9),
                            hyp("Deploy 2.4.1", ["E2", "E13"], 0.6),
                            hyp("No citation at all", [], 0.5)]}
    route = respx.post(COMPLETIONS).mock(return_value=completion(reply))
    result = rca(INCIDENT, EVIDENCE, make_client())
    assert route.called
    assert [h.statement for h in result.hypotheses] == ["Deploy 2.4.1"]
    assert result.hypotheses[0].rank == 1 and result.hypotheses[0].evidence_ids == ["E2"]
    assert (result.proposed, result.dropped_hypotheses, result.dropped_ids) == (3, 2, 3)
    assert result.fully_cited == 0
    assert "2 hypothesis(es) citing only unknown evidence removed" in result.note


@respx.mock
def test_all_hypotheses_invalid_means_inconclusive():
    reply = {"inconclusive": False, "summary": "", "hypotheses": [hyp("Fabricated", ["E99"])]}
    route = respx.post(COMPLETIONS).mock(return_value=completion(reply))
    result = rca(INCIDENT, EVIDENCE, make_client())
    assert route.call_count == 1
    assert result.inconclusive and result.hypotheses == []
    assert "no hypothesis had valid citations" in result.note


@respx.mock
def test_inconclusive_answer_is_valid_and_flagged():
    reply = {"inconclusive": True, "summary": "Nothing in the evidence points to a cause yet.", "hypotheses": []}
    route = respx.post(COMPLETIONS).mock(return_value=completion(reply))
    result = rca(INCIDENT, EVIDENCE, make_client())
    assert route.call_count == 1
    assert result.source == "llm"
    assert result.inconclusive is True and result.hypotheses == []
    assert result.summary == "Nothing in the evidence points to a cause yet."
    assert result.note == ""


@respx.mock
def test_rca_failure_falls_back_to_change_heuristic_after_one_retry():
    route = respx.post(COMPLETIONS).mock(return_value=httpx.Response(503, json={"error": {"message": "overloaded"}}))
    result = rca(INCIDENT, EVIDENCE, make_client())
    assert route.call_count == 2
    assert result.source == "heuristic"
    assert result.note == "LLM unavailable: server_error; heuristic used"
    assert result.hypotheses[0].evidence_ids == ["E2"]
    assert "2.4.1" in result.hypotheses[0].statement


@respx.mock
def test_model_text_in_hypotheses_cannot_mention():
    reply = {"inconclusive": False, "summary": "<!here> look",
             "hypotheses": [hyp("Deploy by <@U0ABC12345> @channel", ["E2"])]}
    route = respx.post(COMPLETIONS).mock(return_value=completion(reply))
    result = rca(INCIDENT, EVIDENCE, make_client())
    assert route.called
    assert "<" not in result.summary + result.hypotheses[0].statement
    assert "@channel" not in result.hypotheses[0].statement


def test_no_llm_and_no_changes_is_inconclusive():
    result = rca(INCIDENT, [EVIDENCE[2]], client=None)
    assert result.source == "heuristic" and result.inconclusive and result.hypotheses == []
    assert result.note == "LLM not configured; heuristic used"
