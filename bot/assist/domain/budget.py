"""Error-budget burn as a severity signal.

Telemetry supplies one evidence item (kind "metric") per SLO of an affected service, labelled with its burn rates
(`burn_1h`, `burn_5m`, `burn_6h`, `burn_30m`), `budget_remaining` and `slo`. A burn rate of 1 spends the budget
exactly over the SLO window. Both windows of a pair must exceed a threshold (the Google SRE workbook's
multi-window rule: the short window shows the burn is still going on):

| burn, both windows           | suggested severity | why                                              |
|------------------------------|--------------------|--------------------------------------------------|
| ≥ 72× over 1 h and 5 m       | level 1 (sev1)     | a 30-day budget gone in under 10 hours           |
| ≥ 14.4× over 1 h and 5 m     | level 2 (sev2)     | the workbook's fast-burn page: 2 % of it an hour |
| ≥ 6× over 6 h and 30 m       | level 3 (sev3)     | the workbook's slow-burn page: 5 % in 6 hours    |

Level n is the n-th most severe configured severity. The burn only ever raises a suggestion, never lowers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.assist.domain.heuristic import ordered_severities
from bot.assist.domain.models import EvidenceItem, SeverityOption, TriageSuggestion

# (long window, short window, minimum burn rate on both, severity level), most severe first.
BURN_SEVERITY = (("1h", "5m", 72.0, 1), ("1h", "5m", 14.4, 2), ("6h", "30m", 6.0, 3))


def budget_items(evidence: Sequence[EvidenceItem]) -> list[EvidenceItem]:
    """The SLO burn items among the evidence."""
    return [e for e in evidence if e.kind == "metric" and "slo" in e.labels and "burn_1h" in e.labels]


def _rate(item: EvidenceItem, window: str) -> float:
    try:
        return float(item.labels.get(f"burn_{window}", "0"))
    except ValueError:
        return 0.0


def burn_level(item: EvidenceItem) -> tuple[int, float] | None:
    """(severity level, the burn rate that earned it: the lower of the pair's two), or None below every threshold."""
    for long_w, short_w, limit, level in BURN_SEVERITY:
        rate = min(_rate(item, long_w), _rate(item, short_w))
        if rate >= limit:
            return level, rate
    return None


def budget_line(item: EvidenceItem, severity: str | None = None) -> str:
    """`checkout-availability: budget burning 14× (1 h) → sev2 · 72% of the 28-day budget left`."""
    rate = _rate(item, "1h")
    line = f"{item.labels['slo']}: budget burning {rate:.0f}× (1 h)"
    if severity:
        line += f" → {severity}"
    left = item.labels.get("budget_remaining")
    if left not in (None, ""):
        line += f" · {float(left):.0%} of the {item.labels.get('window', 'SLO window')} budget left"
    return line


def apply_burn(result: TriageSuggestion, evidence: Sequence[EvidenceItem],
               severities: Sequence[SeverityOption]) -> TriageSuggestion:
    """Raise the suggested severity to the most severe burn level, citing the SLO item and saying why."""
    names = ordered_severities(severities)
    best: tuple[int, EvidenceItem] | None = None
    for item in budget_items(evidence):
        found = burn_level(item)
        if found and (best is None or found[0] < best[0]):
            best = (found[0], item)
    if best is None or not names:
        return result
    level, item = best
    severity = names[min(level, len(names)) - 1]
    cited = list(dict.fromkeys([*result.evidence_ids, item.id]))
    if result.severity in names and names.index(result.severity) <= names.index(severity):
        return replace(result, evidence_ids=cited)
    note = budget_line(item, severity)
    return replace(result, severity=severity, evidence_ids=cited, note="; ".join(filter(None, [result.note, note])))


def budget_lines(evidence: Sequence[EvidenceItem], severities: Sequence[SeverityOption]) -> list[str]:
    """One line per SLO item for the triage message, with the severity its burn suggests (if any)."""
    names = ordered_severities(severities)
    out = []
    for item in budget_items(evidence):
        found = burn_level(item)
        severity = names[min(found[0], len(names)) - 1] if found and names else None
        out.append(f"`{item.id}` " + budget_line(item, severity))
    return out
