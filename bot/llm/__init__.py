"""LLM-assisted triage and root-cause suggestions (plain Python: no Slack, no database).

Entry points for the rest of the bot:
* `LLMClient.from_config(config.llm)` → client or None (None = not configured → heuristics)
* `triage(...)` → `TriageSuggestion`; `rca(...)` → `RcaResult` (both never raise)
* `draft_narrative(facts, client, sections=...)` → `NarrativeDraft` for postmortems (never raises)
* `similar(...)` / `similar_as_evidence(...)` for past incidents; `ChangeEvent`, `select_changes`, `changes_as_evidence`
* `redact(...)` / `Redactor` before anything leaves; `restore_for_display(...)` for showing model text
"""

from bot.llm.changes import ChangeEvent, changes_as_evidence, select_changes
from bot.llm.client import LLMCallError, LLMClient
from bot.llm.config import LLMConfig, LLMSettings, resolve_settings
from bot.llm.display import display_text, restore_for_display
from bot.llm.models import (
    EvidenceItem,
    FirstStep,
    Hypothesis,
    Incident,
    RcaResult,
    RotationOption,
    SeverityOption,
    TriageSuggestion,
    Usage,
    number_evidence,
)
from bot.llm.narrative import NarrativeDraft, draft_narrative
from bot.llm.rca import rca
from bot.llm.redaction import Redacted, Redactor, redact
from bot.llm.similar import BM25Index, PastDoc, SimilarMatch, similar, similar_as_evidence
from bot.llm.triage import triage

__all__ = [
    "BM25Index", "ChangeEvent", "EvidenceItem", "FirstStep", "Hypothesis", "Incident", "LLMCallError", "LLMClient",
    "LLMConfig", "LLMSettings", "NarrativeDraft", "PastDoc", "RcaResult", "Redacted", "Redactor", "RotationOption",
    "SeverityOption", "SimilarMatch", "TriageSuggestion", "Usage", "changes_as_evidence", "display_text",
    "draft_narrative", "number_evidence", "rca", "redact", "resolve_settings", "restore_for_display", "select_changes",
    "similar", "similar_as_evidence", "triage",
]
