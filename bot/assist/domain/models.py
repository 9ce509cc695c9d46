"""Plain data passed into and out of the LLM features.

Inputs are dataclasses the lead fills from storage/Slack; outputs are dataclasses whose text fields are already
safe to post in Slack (placeholders mapped back for display, mentions neutralised).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

EvidenceKind = Literal["timeline", "alert", "change", "similar_incident", "message", "metric"]
EVIDENCE_KINDS: tuple[str, ...] = ("timeline", "alert", "change", "similar_incident", "message", "metric")
EVIDENCE_ID = re.compile(r"^E[1-9][0-9]{0,3}$")


@dataclass(frozen=True)
class Incident:
    title: str
    description: str = ""
    severity: str | None = None
    status: str | None = None
    started_at: datetime | None = None


@dataclass(frozen=True)
class EvidenceItem:
    """One numbered piece of evidence (`E1`, `E2`…). `labels` carries structured alert labels when known."""

    id: str
    kind: EvidenceKind
    text: str
    url: str | None = None
    time: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Ids are rendered into prompt markup as attributes: only the bot's own E<n> format is accepted.
        if not EVIDENCE_ID.match(self.id):
            raise ValueError(f"evidence id {self.id!r} must look like E1, E2, …")
        if self.kind not in EVIDENCE_KINDS:
            raise ValueError(f"evidence kind {self.kind!r} must be one of {', '.join(EVIDENCE_KINDS)}")


def number_evidence(items: list[EvidenceItem | tuple]) -> list[EvidenceItem]:
    """Renumber items E1..En in order (accepts EvidenceItem or (kind, text[, url[, time]]) tuples)."""
    out: list[EvidenceItem] = []
    for i, item in enumerate(items, start=1):
        if isinstance(item, EvidenceItem):
            out.append(replace(item, id=f"E{i}"))
        else:
            out.append(EvidenceItem(f"E{i}", *item))
    return out


@dataclass(frozen=True)
class SeverityOption:
    name: str
    description: str = ""


@dataclass(frozen=True)
class RotationOption:
    name: str
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class Usage:
    """Token usage; a field is None when the server did not report it."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None

    def __add__(self, other: "Usage") -> "Usage":
        def add(a: int | None, b: int | None) -> int | None:
            if a is None and b is None:
                return None
            return (a or 0) + (b or 0)

        return Usage(
            add(self.prompt_tokens, other.prompt_tokens),
            add(self.completion_tokens, other.completion_tokens),
            add(self.total_tokens, other.total_tokens),
        )

    def cost(self, price_per_1k_prompt: float, price_per_1k_completion: float) -> float | None:
        """Cost in the price's currency, or None when token counts are unknown."""
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return (self.prompt_tokens or 0) / 1000 * price_per_1k_prompt + (
            self.completion_tokens or 0
        ) / 1000 * price_per_1k_completion


Source = Literal["llm", "heuristic"]


@dataclass(frozen=True)
class FirstStep:
    text: str
    url: str | None = None


@dataclass(frozen=True)
class TriageSuggestion:
    severity: str
    affected_services: list[str]
    suggested_owner: str | None
    summary: str
    first_steps: list[FirstStep]
    confidence: float
    evidence_ids: list[str]
    source: Source
    note: str = ""
    usage: Usage = field(default_factory=Usage)
    llm_calls: int = 0

    @property
    def confidence_label(self) -> str:
        return confidence_label(self.confidence)


@dataclass(frozen=True)
class Hypothesis:
    rank: int
    statement: str
    evidence_ids: list[str]
    confidence: float
    confirm: str
    refute: str
    next_check: str

    @property
    def confidence_label(self) -> str:
        return confidence_label(self.confidence)


@dataclass(frozen=True)
class RcaResult:
    hypotheses: list[Hypothesis]
    inconclusive: bool
    source: Source
    note: str = ""
    summary: str = ""
    # Citation checking: hypotheses proposed by the model, removed because none of their ids were ours,
    # and individual unknown ids stripped from the ones kept.
    proposed: int = 0
    dropped_hypotheses: int = 0
    dropped_ids: int = 0
    # Proposed hypotheses whose every cited id was one the bot supplied (the benchmark's citation-validity metric).
    fully_cited: int = 0
    usage: Usage = field(default_factory=Usage)
    llm_calls: int = 0


def confidence_label(value: float) -> str:
    return "high" if value >= 0.7 else "medium" if value >= 0.4 else "low"
