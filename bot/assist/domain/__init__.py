"""The assistant's rules: triage and root-cause suggestions, redaction, prompts, similar incidents
(plain Python: no Slack, no database; the model is reached through `bot.assist.llm_client`).

Entry points for the rest of the bot:
* `triage(...)` → `TriageSuggestion`; `rca(...)` → `RcaResult` (both never raise)
* `similar(...)` / `similar_as_evidence(...)` for past incidents; `ChangeEvent`, `select_changes`, `changes_as_evidence`
* `redact(...)` / `Redactor` before anything leaves; `restore_for_display(...)` for showing model text
"""

from bot.assist.domain.changes import ChangeEvent, changes_as_evidence, select_changes
from bot.assist.domain.config import LLMConfig, LLMSettings, resolve_settings
from bot.assist.domain.display import display_text, restore_for_display
from bot.assist.domain.models import (
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
from bot.assist.domain.rca import rca
from bot.assist.domain.redaction import Redacted, Redactor, redact
from bot.assist.domain.similar import BM25Index, PastDoc, SimilarMatch, similar, similar_as_evidence
from bot.assist.domain.triage import triage

__all__ = [
    "BM25Index", "ChangeEvent", "EvidenceItem", "FirstStep", "Hypothesis", "Incident", 
    "LLMConfig", "LLMSettings", "PastDoc", "RcaResult", "Redacted", "Redactor", "RotationOption",
    "SeverityOption", "SimilarMatch", "TriageSuggestion", "Usage", "changes_as_evidence", "display_text",
    "number_evidence", "rca", "redact", "resolve_settings", "restore_for_display", "select_changes",
    "similar", "similar_as_evidence", "triage",
]
