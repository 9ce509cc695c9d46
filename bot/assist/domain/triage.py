"""LLM-assisted triage: severity, owner, summary and first steps for a new incident.

`triage()` never raises: with no LLM, or after a failed call plus one repair attempt, it returns the heuristic
suggestion with a note saying why. Model output is validated (shape with pydantic, then severity/owner against the
configuration) and filtered (unknown evidence ids and steps with URLs not present in the evidence are dropped)
before any of it is shown; every text field is mapped back for display and mention-neutralised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.assist.domain.budget import apply_burn
from bot.assist.domain.context import PreparedContext, find_urls, prepare
from bot.assist.domain.display import DisplayName, display_text
from bot.assist.domain.heuristic import (GENERIC_FIRST_STEP, ServiceOwner, catalog_owner, heuristic_triage,
                                        ordered_severities, service_line)
from bot.assist.domain.models import EvidenceItem, FirstStep, Incident, RotationOption, SeverityOption, TriageSuggestion, Usage
from bot.assist.domain.prompts import render, repair_prompt, system_prompt
from bot.safety import neutralize_mentions, truncate

if TYPE_CHECKING:  # the model client is an adapter; the rules only need its type
    from bot.assist.llm_client import LLMClient

log = logging.getLogger(__name__)

_CONFIDENCE_WORDS = {"low": 0.25, "medium": 0.5, "high": 0.8}


def parse_confidence(value: Any) -> float:
    """Accept 0..1 numbers, percentages written as 0..100, or low/medium/high."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _CONFIDENCE_WORDS:
            return _CONFIDENCE_WORDS[word]
        value = float(word.rstrip("%"))
    v = float(value)
    if 1 < v <= 100:
        v /= 100
    if not 0 <= v <= 1:
        raise ValueError("confidence must be between 0 and 1")
    return v


class StepReply(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str = Field(min_length=1, max_length=600)
    url: str | None = None


class TriageReply(BaseModel):
    """Shape of the model's triage reply (validated before use)."""

    model_config = ConfigDict(extra="ignore")
    severity: str
    affected_services: list[str] = Field(default_factory=list, max_length=20)
    suggested_owner: str | None = None
    summary: str = Field(min_length=1, max_length=3000)
    first_steps: list[StepReply] = Field(default_factory=list, max_length=10)
    confidence: float
    evidence_ids: list[str] = Field(default_factory=list)

    _conf = field_validator("confidence", mode="before")(lambda cls, v: parse_confidence(v))


def triage_schema(severities: Sequence[str], rotations: Sequence[str]) -> dict[str, Any]:
    """Strict JSON schema with the configured names as enums (servers with constrained decoding obey it)."""
    owner: dict[str, Any] = {"type": ["string", "null"]}
    if rotations:
        owner["enum"] = [*rotations, None]
    else:
        owner = {"type": "null"}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["severity", "affected_services", "suggested_owner", "summary", "first_steps", "confidence", "evidence_ids"],
        "properties": {
            "severity": {"type": "string", "enum": list(severities)},
            "affected_services": {"type": "array", "items": {"type": "string"}},
            "suggested_owner": owner,
            "summary": {"type": "string"},
            "first_steps": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["text", "url"],
                    "properties": {"text": {"type": "string"}, "url": {"type": ["string", "null"]}},
                },
            },
            "confidence": {"type": "number"},
            "evidence_ids": {"type": "array", "items": {"type": "string"}},
        },
    }


def _canonical(value: str | None, names: Sequence[str]) -> str | None:
    if value is None:
        return None
    by_lower = {n.lower(): n for n in names}
    return by_lower.get(value.strip().lower())


def build_triage_messages(
    ctx: PreparedContext, severities: Sequence[SeverityOption], rotations: Sequence[RotationOption]
) -> list[dict[str, str]]:
    user = render("triage.j2", incident=ctx.incident, evidence=ctx.evidence, severities=severities, rotations=rotations)
    return [{"role": "system", "content": system_prompt("triage")}, {"role": "user", "content": user}]


def triage(
    incident: Incident,
    evidence: list[EvidenceItem],
    severities: Sequence[SeverityOption],
    rotations: Sequence[RotationOption],
    client: LLMClient | None = None,
    *,
    display_name: DisplayName | None = None,
    default_severity: str | None = None,
    catalog: Sequence[ServiceOwner] = (),
) -> TriageSuggestion:
    """Suggest a triage; uses the LLM when `client` is given, the heuristic otherwise; an error budget burning fast
    raises the severity (`bot.assist.domain.budget`). `catalog` holds the incident's catalog services: their owner
    rotation is preferred and they are named. Never raises."""
    try:
        ctx = prepare(incident, evidence)
    except Exception:
        log.exception("triage: preparing the context failed")
        return _last_resort(incident, severities, default_severity)
    rotations = owners_first(rotations, catalog)
    if client is None:
        result = _heuristic(ctx, severities, rotations, display_name, default_severity,
                            "LLM not configured; heuristic used", catalog=catalog)
    else:
        try:
            result = _with_catalog(_llm_triage(ctx, severities, rotations, client, display_name, default_severity,
                                               catalog), rotations, catalog)
        except Exception:  # a bug in our own post-processing must not take the incident flow down
            log.exception("triage: unexpected error in the LLM path")
            result = _heuristic(ctx, severities, rotations, display_name, default_severity,
                                "LLM unavailable: internal error; heuristic used", catalog=catalog)
    return apply_burn(result, evidence, severities)


def owners_first(rotations: Sequence[RotationOption], catalog: Sequence[ServiceOwner]) -> list[RotationOption]:
    """Rotation options with the incident services' owners first (the model reads them in order)."""
    owners = [s.owner for s in catalog if s.owner]
    return sorted(rotations, key=lambda r: owners.index(r.name) if r.name in owners else len(owners))


def _with_catalog(result: TriageSuggestion, rotations: Sequence[RotationOption],
                  catalog: Sequence[ServiceOwner]) -> TriageSuggestion:
    """An LLM suggestion completed from the catalog: the services named first, and their owner when the model
    chose none (a rotation it did choose is kept: it may cite evidence against the catalog)."""
    if result.source != "llm" or not catalog:
        return result
    owned = catalog_owner(catalog, rotations)
    owner = result.suggested_owner or (owned.owner if owned else None)
    services = list(dict.fromkeys([s.name for s in catalog] + list(result.affected_services)))[:10]
    line = service_line(catalog)
    summary = result.summary if result.summary.startswith(line) else f"{line} {result.summary}"
    return replace(result, suggested_owner=owner, affected_services=services, summary=summary)

def _reply_checker(sev_names: Sequence[str], rot_names: Sequence[str]):
    """The semantic check of a reply: severity and owner must be configured names (else one repair attempt)."""
    def check(reply: TriageReply) -> list[str]:
        problems = []
        if _canonical(reply.severity, sev_names) is None:
            problems.append(f"severity {reply.severity!r} is not one of {', '.join(sev_names)}")
        if reply.suggested_owner is not None and _canonical(reply.suggested_owner, rot_names) is None:
            allowed = ", ".join(rot_names) or "none are configured"
            problems.append(f"suggested_owner {reply.suggested_owner!r} is not a configured rotation ({allowed}); use one of them or null")
        return problems

    return check


def _llm_triage(
    ctx: PreparedContext,
    severities: Sequence[SeverityOption],
    rotations: Sequence[RotationOption],
    client: LLMClient,
    display_name: DisplayName | None,
    default_severity: str | None,
    catalog: Sequence[ServiceOwner] = (),
) -> TriageSuggestion:
    sev_names = [s.name for s in severities]
    rot_names = [r.name for r in rotations]
    outcome = client.structured(
        build_triage_messages(ctx, severities, rotations),
        TriageReply,
        schema=triage_schema(sev_names, rot_names),
        schema_name="triage",
        check=_reply_checker(sev_names, rot_names),
        repair_prompt=repair_prompt,
        purpose="triage",
    )
    if outcome.value is None:
        note = f"LLM unavailable: {outcome.failure}; heuristic used"
        return _heuristic(ctx, severities, rotations, display_name, default_severity, note, outcome.usage,
                          outcome.calls, catalog=catalog)
    return _from_reply(ctx, outcome, sev_names, rot_names, display_name)


def _kept_steps(ctx: PreparedContext, reply: TriageReply, display_name: DisplayName | None) -> tuple[list[FirstStep], int]:
    """Steps whose every URL was in the evidence (others may be invented or injected), and how many were dropped."""
    steps: list[FirstStep] = []
    dropped = 0
    for step in reply.first_steps:
        urls = find_urls(step.text) + ([step.url.strip()] if step.url and step.url.strip() else [])
        if any(u.rstrip(".,;:") not in ctx.allowed_urls for u in urls):
            dropped += 1
            continue
        url = step.url.strip() if step.url and step.url.strip() else None
        steps.append(FirstStep(_show(step.text, ctx, display_name, 500), neutralize_mentions(url) if url else None))
    return steps, dropped


def _from_reply(ctx: PreparedContext, outcome: Any, sev_names: Sequence[str], rot_names: Sequence[str],
                display_name: DisplayName | None) -> TriageSuggestion:
    """A validated reply filtered for display: unknown ids and steps with foreign URLs dropped, with notes."""
    reply = outcome.value
    notes: list[str] = []
    if outcome.repaired:
        notes.append("LLM reply repaired after one invalid attempt")
    known = set(ctx.known_ids)
    cited = list(dict.fromkeys(i.strip() for i in reply.evidence_ids))
    kept_ids = [i for i in cited if i in known]
    if len(kept_ids) < len(cited):
        notes.append(f"{len(cited) - len(kept_ids)} unknown evidence id(s) dropped")
    steps, dropped_steps = _kept_steps(ctx, reply, display_name)
    if dropped_steps:
        notes.append(f"{dropped_steps} step(s) with URLs not found in the evidence dropped")
    services = list(dict.fromkeys(_show(s, ctx, display_name, 80) for s in reply.affected_services if s.strip()))
    return TriageSuggestion(
        severity=_canonical(reply.severity, sev_names) or sev_names[0],
        affected_services=services[:10],
        suggested_owner=_canonical(reply.suggested_owner, rot_names),
        summary=_show(reply.summary, ctx, display_name, 1500),
        first_steps=steps[:5],
        confidence=round(reply.confidence, 2),
        evidence_ids=kept_ids,
        source="llm",
        note="; ".join(notes),
        usage=outcome.usage,
        llm_calls=outcome.calls,
    )

def _show(text: str, ctx: PreparedContext, display_name: DisplayName | None, limit: int) -> str:
    return display_text(text, ctx.mapping, display_name, limit)


def _heuristic(
    ctx: PreparedContext,
    severities: Sequence[SeverityOption],
    rotations: Sequence[RotationOption],
    display_name: DisplayName | None,
    default_severity: str | None,
    note: str,
    usage: Usage | None = None,
    calls: int = 0,
    *,
    catalog: Sequence[ServiceOwner] = (),
) -> TriageSuggestion:
    h = heuristic_triage(ctx, severities, rotations, default_severity, catalog)
    return TriageSuggestion(
        severity=h["severity"],
        affected_services=[_show(s, ctx, display_name, 80) for s in h["affected_services"]],
        suggested_owner=h["suggested_owner"],
        summary=_show(h["summary"], ctx, display_name, 1500),
        first_steps=[
            FirstStep(_show(s.text, ctx, display_name, 500), neutralize_mentions(s.url) if s.url else None)
            for s in h["first_steps"]
        ],
        confidence=h["confidence"],
        evidence_ids=h["evidence_ids"],
        source="heuristic",
        note=note,
        usage=usage or Usage(),
        llm_calls=calls,
    )


def _last_resort(incident: Incident, severities: Sequence[SeverityOption], default_severity: str | None) -> TriageSuggestion:
    names = [s.name for s in severities]
    severity = incident.severity if incident.severity in names else default_severity if default_severity in names else (names[0] if names else "unknown")
    return TriageSuggestion(
        severity=severity or "unknown",
        affected_services=[],
        suggested_owner=None,
        summary=neutralize_mentions(truncate(incident.title or "", 300)),
        first_steps=[],
        confidence=0.1,
        evidence_ids=[],
        source="heuristic",
        note="triage failed: internal error; minimal suggestion",
    )


# Evidence independent of the people in the incident: their own words (description, timeline) restate the
# declared severity's context and are no ground for second-guessing it.
INDEPENDENT_KINDS = ("alert", "change", "metric", "similar_incident")


def keep_declared_severity(result: TriageSuggestion, declared: str | None, severities: Sequence[SeverityOption],
                           evidence: Sequence[EvidenceItem] = ()) -> TriageSuggestion:
    """A severity a human chose is never suggested lower without cited independent evidence: it is kept."""
    names = ordered_severities(severities)
    kinds = {e.id: e.kind for e in evidence}
    if declared not in names or result.severity not in names:
        return result
    if any(kinds.get(i) in INDEPENDENT_KINDS for i in result.evidence_ids):
        return result
    if names.index(result.severity) <= names.index(declared):
        return result
    note = f"kept the declared {declared}: nothing cited supports lowering it"
    return replace(result, severity=declared, note="; ".join(filter(None, [result.note, note])))


def says_something(result: TriageSuggestion, declared: str | None, evidence: Sequence[EvidenceItem] = ()) -> bool:
    """Whether a suggestion adds anything to what the declarer already said (else posting it is noise)."""
    kinds = {e.id: e.kind for e in evidence}
    specific_steps = [step for step in result.first_steps if step.text != GENERIC_FIRST_STEP]
    independent = [i for i in result.evidence_ids if kinds.get(i) in INDEPENDENT_KINDS]
    return bool(result.severity != declared or result.suggested_owner or result.affected_services
                or specific_steps or independent)
