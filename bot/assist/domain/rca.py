"""Root-cause suggestions for `/incident rca`: ranked, evidence-cited hypotheses, or an explicit "inconclusive".

Citation checking happens before anything is displayed: ids the bot did not supply are stripped from each
hypothesis, and a hypothesis left with no valid id is removed (both are counted in the result). The model's order is
kept as the ranking. `rca()` never raises; on failure it falls back to change/similar-incident heuristics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.assist.domain.context import PreparedContext, prepare
from bot.assist.domain.display import DisplayName
from bot.assist.domain.heuristic import heuristic_hypotheses
from bot.assist.domain.models import EvidenceItem, Hypothesis, Incident, RcaResult, Usage
from bot.assist.domain.prompts import render, repair_prompt, system_prompt
from bot.assist.domain.triage import _show, parse_confidence

if TYPE_CHECKING:  # the model client is an adapter; the rules only need its type
    from bot.assist.llm_client import LLMClient

log = logging.getLogger(__name__)

MAX_HYPOTHESES = 5


class HypothesisReply(BaseModel):
    model_config = ConfigDict(extra="ignore")
    statement: str = Field(min_length=1, max_length=1000)
    evidence_ids: list[str] = Field(default_factory=list)
    confidence: float
    confirm: str = ""
    refute: str = ""
    next_check: str = ""

    _conf = field_validator("confidence", mode="before")(lambda cls, v: parse_confidence(v))


class RcaReply(BaseModel):
    model_config = ConfigDict(extra="ignore")
    inconclusive: bool = False
    summary: str = Field(default="", max_length=2000)
    hypotheses: list[HypothesisReply] = Field(default_factory=list, max_length=10)


def rca_schema() -> dict[str, Any]:
    hyp = {
        "type": "object",
        "additionalProperties": False,
        "required": ["statement", "evidence_ids", "confidence", "confirm", "refute", "next_check"],
        "properties": {
            "statement": {"type": "string"},
            "evidence_ids": {"type": "array", "items": {"type": "string"}},
            "confidence": {"type": "number"},
            "confirm": {"type": "string"},
            "refute": {"type": "string"},
            "next_check": {"type": "string"},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["inconclusive", "summary", "hypotheses"],
        "properties": {
            "inconclusive": {"type": "boolean"},
            "summary": {"type": "string"},
            "hypotheses": {"type": "array", "items": hyp},
        },
    }


def build_rca_messages(ctx: PreparedContext, max_hypotheses: int = MAX_HYPOTHESES) -> list[dict[str, str]]:
    user = render("rca.j2", incident=ctx.incident, evidence=ctx.evidence, max_hypotheses=max_hypotheses)
    return [{"role": "system", "content": system_prompt("rca")}, {"role": "user", "content": user}]


def rca(
    incident: Incident,
    evidence: list[EvidenceItem],
    client: LLMClient | None = None,
    *,
    display_name: DisplayName | None = None,
    max_hypotheses: int = MAX_HYPOTHESES,
) -> RcaResult:
    """Ranked root-cause hypotheses; heuristic when `client` is None or the model fails. Never raises."""
    try:
        ctx = prepare(incident, evidence)
    except Exception:
        log.exception("rca: preparing the context failed")
        return RcaResult([], True, "heuristic", note="RCA failed: internal error")
    if client is None:
        return _heuristic(ctx, display_name, "LLM not configured; heuristic used", max_hypotheses)
    try:
        return _llm_rca(ctx, client, display_name, max_hypotheses)
    except Exception:
        log.exception("rca: unexpected error in the LLM path")
        return _heuristic(ctx, display_name, "LLM unavailable: internal error; heuristic used", max_hypotheses)


def check_citations(
    hypotheses: list[HypothesisReply], known_ids: set[str]
) -> tuple[list[HypothesisReply], int, int]:
    """Strip unknown ids; remove hypotheses with no valid id left. Returns (kept, dropped hypotheses, dropped ids)."""
    kept: list[HypothesisReply] = []
    dropped_h = dropped_ids = 0
    for h in hypotheses:
        ids = list(dict.fromkeys(i.strip() for i in h.evidence_ids))
        valid = [i for i in ids if i in known_ids]
        dropped_ids += len(ids) - len(valid)
        if not valid:
            dropped_h += 1
            continue
        kept.append(h.model_copy(update={"evidence_ids": valid}))
    return kept, dropped_h, dropped_ids


def _llm_rca(ctx: PreparedContext, client: LLMClient, display_name: DisplayName | None, max_hypotheses: int) -> RcaResult:
    outcome = client.structured(
        build_rca_messages(ctx, max_hypotheses),
        RcaReply,
        schema=rca_schema(),
        schema_name="rca",
        repair_prompt=repair_prompt,
        purpose="rca",
    )
    if outcome.value is None:
        note = f"LLM unavailable: {outcome.failure}; heuristic used"
        return _heuristic(ctx, display_name, note, max_hypotheses, outcome.usage, outcome.calls)
    reply = outcome.value
    kept, dropped_h, dropped_ids = check_citations(reply.hypotheses, set(ctx.known_ids))
    kept = kept[:max_hypotheses]
    notes: list[str] = []
    if outcome.repaired:
        notes.append("LLM reply repaired after one invalid attempt")
    if dropped_h:
        notes.append(f"{dropped_h} hypothesis(es) citing only unknown evidence removed")
    if dropped_ids:
        notes.append(f"{dropped_ids} unknown evidence id(s) dropped")
    inconclusive = reply.inconclusive or not kept
    if not reply.inconclusive and not kept and reply.hypotheses:
        notes.append("no hypothesis had valid citations")
    hyps = [
        Hypothesis(
            rank=i,
            statement=_show(h.statement, ctx, display_name, 600),
            evidence_ids=h.evidence_ids,
            confidence=round(h.confidence, 2),
            confirm=_show(h.confirm, ctx, display_name, 400),
            refute=_show(h.refute, ctx, display_name, 400),
            next_check=_show(h.next_check, ctx, display_name, 400),
        )
        for i, h in enumerate(kept, start=1)
    ]
    return RcaResult(
        hypotheses=hyps,
        inconclusive=inconclusive,
        source="llm",
        note="; ".join(notes),
        summary=_show(reply.summary, ctx, display_name, 800),
        proposed=len(reply.hypotheses),
        dropped_hypotheses=dropped_h,
        dropped_ids=dropped_ids,
        fully_cited=sum(
            1 for h in reply.hypotheses if h.evidence_ids and all(i.strip() in ctx.known_ids for i in h.evidence_ids)
        ),
        usage=outcome.usage,
        llm_calls=outcome.calls,
    )


def _heuristic(
    ctx: PreparedContext,
    display_name: DisplayName | None,
    note: str,
    max_hypotheses: int,
    usage: Usage | None = None,
    calls: int = 0,
) -> RcaResult:
    hyps = [
        Hypothesis(
            rank=h.rank,
            statement=_show(h.statement, ctx, display_name, 600),
            evidence_ids=h.evidence_ids,
            confidence=h.confidence,
            confirm=h.confirm,
            refute=h.refute,
            next_check=h.next_check,
        )
        for h in heuristic_hypotheses(ctx, max_hypotheses)
    ]
    return RcaResult(
        hypotheses=hyps,
        inconclusive=not hyps,
        source="heuristic",
        note=note,
        summary="" if hyps else "No recent changes or similar incidents in the evidence to suggest a cause.",
        proposed=len(hyps),
        fully_cited=len(hyps),
        usage=usage or Usage(),
        llm_calls=calls,
    )
