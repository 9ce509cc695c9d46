"""Rule-based triage and RCA used when no LLM is configured or the model failed.

Deliberately simple and predictable: severity from alert labels and impact keywords, owner from `team`/`service`
labels matched to rotations, summary from the title/description and the evidence counts, first steps from runbook
links, recent changes and similar incidents in the evidence. Works on the redacted context (like the LLM path) so
output is handled identically for display.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.assist.domain.context import PreparedContext, find_urls
from bot.assist.domain.models import FirstStep, Hypothesis, RotationOption, SeverityOption

_LABEL = re.compile(
    r"\b(severity|priority|team|service|owner|component|runbook_url|runbook)\s*[=:]\s*[\"']?([^\s\"',;]+)",
    re.IGNORECASE,
)
_LABEL_LEVEL = {
    **dict.fromkeys(["critical", "crit", "p1", "p0", "page", "emergency", "fatal", "disaster"], 1),
    **dict.fromkeys(["high", "major", "error", "p2"], 2),
    **dict.fromkeys(["warning", "warn", "medium", "minor", "p3", "average"], 3),
    **dict.fromkeys(["info", "low", "p4", "p5", "none", "informational"], 4),
}
# Impact keywords, most severe first; only searched in the incident itself, alerts, timeline and messages
# (a change description like "fix outage bug" must not raise the severity).
_KEYWORDS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(r"\bdata (?:loss|corruption)|\boutage\b|\b(?:completely|totally|hard) down\b|\ball (?:customers|users)\b|\bsecurity breach\b", re.I)),
    (2, re.compile(r"\bdown\b|\b5\d\ds?\b|\b5xx\b|\bunavailable\b|\bfailing\b|\berror rate\b|\bdegraded\b|\bcannot (?:log ?in|pay|check ?out)\b", re.I)),
    (3, re.compile(r"\bslow\b|\blatency\b|\belevated\b|\bintermittent\b|\bpartial\b", re.I)),
]
# The fallback first step: true of every incident, so it alone does not make a suggestion worth posting.
GENERIC_FIRST_STEP = "Confirm customer impact and post a status update in the incident channel"
_RUNBOOK_HINT = re.compile(r"runbook|playbook|wiki|/docs?/", re.I)


@dataclass(frozen=True)
class ServiceOwner:
    """A catalog service of the incident and the rotation owning it (None when the catalog names none)."""

    name: str
    owner: str | None = None


def catalog_owner(services: Sequence[ServiceOwner], rotations: Sequence[RotationOption]) -> ServiceOwner | None:
    """The first incident service whose owner is a configured rotation: the catalog's answer to "who owns this"."""
    names = {r.name for r in rotations}
    return next((s for s in services if s.owner in names), None)


def service_line(services: Sequence[ServiceOwner]) -> str:
    """`Service: checkout (owner: payments).` naming the incident's catalog services; "" without any."""
    if not services:
        return ""
    named = ", ".join(f"{s.name} (owner: {s.owner})" if s.owner else s.name for s in services[:5])
    return f"{'Service' if len(services) == 1 else 'Services'}: {named}."


def labels_of(text: str) -> dict[str, list[str]]:
    """`key=value` / `key: value` labels found in evidence text (keys lower-cased)."""
    out: dict[str, list[str]] = {}
    for key, value in _LABEL.findall(text or ""):
        out.setdefault(key.lower(), []).append(value)
    return out


def ordered_severities(severities: Sequence[SeverityOption]) -> list[str]:
    """Severity names most severe first (sevN sorted by N when all follow that pattern; else config order)."""
    names = [s.name for s in severities]
    if names and all(re.fullmatch(r"sev[0-9]", n) for n in names):
        return sorted(names, key=lambda n: int(n[3:]))
    return names


def _level_of_label(value: str) -> int | None:
    v = value.lower()
    m = re.fullmatch(r"sev([0-9])", v)
    if m:
        return max(1, int(m.group(1)))
    return _LABEL_LEVEL.get(v)


def match_rotation(candidate: str, rotations: Sequence[RotationOption]) -> str | None:
    """Rotation whose name or services match a team/service label value."""
    c = candidate.strip().lower()
    if not c:
        return None
    for r in rotations:
        if r.name.lower() == c or c in (s.lower() for s in r.services):
            return r.name
    tokens = set(re.split(r"[-_ ./]+", c))
    for r in rotations:
        if set(re.split(r"[-_ ./]+", r.name.lower())) & tokens - {"oncall", "on", "call", "team", "primary", "secondary"}:
            return r.name
    return None


class _Citations(list):
    """Evidence ids cited, in first-cited order, each once."""

    def cite(self, eid: str) -> None:
        if eid not in self:
            self.append(eid)


def _severity_level(ctx: PreparedContext, cited: _Citations) -> tuple[int | None, bool]:
    """(most severe level signalled, whether an alert label gave it): alert labels, then impact keywords."""
    level: int | None = None
    label_based = False
    for e in ctx.evidence:
        if e["kind"] != "alert":
            continue
        labels = labels_of(e["text"])
        for value in labels.get("severity", []) + labels.get("priority", []):
            lv = _level_of_label(value)
            if lv is not None:
                label_based = True
                cited.cite(e["id"])
                level = lv if level is None else min(level, lv)
    inc = ctx.incident
    impact_texts = [("", inc["title"]), ("", inc["description"])] + [
        (e["id"], e["text"]) for e in ctx.evidence if e["kind"] in ("alert", "timeline", "message")
    ]
    for eid, text in impact_texts:
        for lv, pattern in _KEYWORDS:
            if pattern.search(text or ""):
                if eid:
                    cited.cite(eid)
                level = lv if level is None else min(level, lv)
                break
    return level, label_based


def _severity(level: int | None, names: list[str], declared: str | None, default_severity: str | None) -> str:
    if level is not None and names:
        return names[min(level, len(names)) - 1]
    if declared in names:
        return declared  # type: ignore[return-value]
    if default_severity in names:
        return default_severity  # type: ignore[return-value]
    return names[min(2, len(names) - 1)] if names else "unknown"


def _owner_and_services(ctx: PreparedContext, rotations: Sequence[RotationOption],
                        cited: _Citations) -> tuple[str | None, list[str]]:
    """Owner and services from labels (alerts first, then changes and similar incidents), then names in the text."""
    owner: str | None = None
    services: list[str] = []
    by_kind = sorted(ctx.evidence, key=lambda e: {"alert": 0, "change": 1, "similar_incident": 2}.get(e["kind"], 3))
    for e in by_kind:
        labels = labels_of(e["text"])
        for svc in labels.get("service", []) + labels.get("component", []):
            if e["kind"] in ("alert", "change") and svc not in services:
                services.append(svc)
        if owner is None:
            for cand in labels.get("team", []) + labels.get("owner", []) + labels.get("service", []):
                owner = match_rotation(cand, rotations)
                if owner:
                    cited.cite(e["id"])
                    break
    inc = ctx.incident
    blob = " ".join([inc["title"] or "", inc["description"] or ""] + [e["text"] for e in ctx.evidence if e["kind"] == "alert"])
    for r in rotations:
        for svc in r.services:
            if re.search(rf"(?<![\w-]){re.escape(svc)}(?![\w-])", blob, re.I):
                if svc not in services:
                    services.append(svc)
                owner = owner or r.name
    return owner, services


def _first_steps(ctx: PreparedContext, cited: _Citations) -> list[FirstStep]:
    """Runbooks, then recent changes, then similar incidents; the generic step only when there is nothing else."""
    steps: list[FirstStep] = []
    seen_urls: set[str] = set()
    for e in ctx.evidence:
        labels = labels_of(e["text"])
        urls = labels.get("runbook_url", []) + labels.get("runbook", []) + [
            u for u in find_urls(e["text"]) + ([e["url"]] if e["url"] else []) if _RUNBOOK_HINT.search(u)
        ]
        for url in urls:
            url = url.rstrip(".,;:")
            if url in ctx.allowed_urls and url not in seen_urls:
                seen_urls.add(url)
                steps.append(FirstStep(f"Follow the runbook linked from {e['id']}", url))
                cited.cite(e["id"])
    for e in [e for e in ctx.evidence if e["kind"] == "change"][:2]:
        steps.append(FirstStep(f"Check whether change {e['id']} is related and consider rolling it back: {_first_line(e['text'])}", e["url"]))
        cited.cite(e["id"])
    for e in [e for e in ctx.evidence if e["kind"] == "similar_incident"][:1]:
        steps.append(FirstStep(f"Review the similar past incident {e['id']}: {_first_line(e['text'])}", e["url"]))
        cited.cite(e["id"])
    return steps or [FirstStep(GENERIC_FIRST_STEP)]


def _summary(ctx: PreparedContext) -> str:
    inc = ctx.incident
    alerts = [e for e in ctx.evidence if e["kind"] == "alert"]
    changes = [e for e in ctx.evidence if e["kind"] == "change"]
    similar = [e for e in ctx.evidence if e["kind"] == "similar_incident"]
    parts = [(inc["title"] or "Untitled incident").rstrip(".") + "."]
    if inc["description"]:
        parts.append(_clip_sentence(inc["description"], 240))
    if alerts:
        parts.append(f"{len(alerts)} alert(s) attached, first: {_first_line(alerts[0]['text'], 120)}.")
    if changes:
        parts.append(f"{len(changes)} recent change(s) to the affected services, e.g. {_first_line(changes[0]['text'], 120)}.")
    if similar:
        parts.append(f"Similar past incident: {_first_line(similar[0]['text'], 120)}.")
    return " ".join(parts)


def heuristic_triage(
    ctx: PreparedContext,
    severities: Sequence[SeverityOption],
    rotations: Sequence[RotationOption],
    default_severity: str | None = None,
    catalog: Sequence[ServiceOwner] = (),
) -> dict[str, Any]:
    """Triage fields from rules (texts still contain placeholders; the caller maps them back for display).

    `catalog` holds the incident's catalog services: the first one's owner rotation is preferred as the owner,
    and the summary starts by naming them."""
    cited = _Citations()
    level, label_based = _severity_level(ctx, cited)
    severity = _severity(level, ordered_severities(severities), ctx.incident.get("severity"), default_severity)
    owner, services = _owner_and_services(ctx, rotations, cited)
    owned = catalog_owner(catalog, rotations)
    owner = owned.owner if owned is not None else owner
    services = list(dict.fromkeys([s.name for s in catalog] + services))
    steps = _first_steps(ctx, cited)
    confidence = 0.25 + (0.15 if label_based else 0.0) + (0.15 if owner else 0.0) + (0.1 if owned else 0.0)
    return {
        "severity": severity,
        "affected_services": services[:10],
        "suggested_owner": owner,
        "summary": " ".join(filter(None, [service_line(catalog), _summary(ctx)])),
        "first_steps": steps[:5],
        "confidence": round(confidence, 2),
        "evidence_ids": list(cited),
    }


def heuristic_hypotheses(ctx: PreparedContext, max_hypotheses: int = 3) -> list[Hypothesis]:
    """Recent changes (most recent first) and recurrences of similar incidents as low-confidence hypotheses."""
    out: list[Hypothesis] = []
    changes = sorted(
        (e for e in ctx.evidence if e["kind"] == "change"), key=lambda e: e["time"] or "", reverse=True
    )
    for e in changes:
        out.append(
            Hypothesis(
                rank=0,
                statement=f"A recent change caused or triggered the incident: {_first_line(e['text'], 160)}",
                evidence_ids=[e["id"]],
                confidence=0.3,
                confirm="Errors started shortly after the change was deployed and stop when it is rolled back.",
                refute="The symptoms started before the change, or persist after a rollback.",
                next_check=f"Compare the error rate before and after the change in {e['id']}; roll back if they line up.",
            )
        )
    for e in (e for e in ctx.evidence if e["kind"] == "similar_incident"):
        out.append(
            Hypothesis(
                rank=0,
                statement=f"A recurrence of a past incident: {_first_line(e['text'], 160)}",
                evidence_ids=[e["id"]],
                confidence=0.2,
                confirm="The same symptoms and components as in the past incident.",
                refute="Different components or symptoms than in the past incident.",
                next_check=f"Read the postmortem of {e['id']} and check its known trigger.",
            )
        )
    return [Hypothesis(**{**h.__dict__, "rank": i}) for i, h in enumerate(out[:max_hypotheses], start=1)]


def _first_line(text: str, limit: int = 100) -> str:
    """First meaningful line, skipping the synthetic `k=v k=v` labels line that prepare() puts first."""
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    meaningful = [l for l in lines if not all(_LABEL.fullmatch(tok) for tok in l.split())]
    line = (meaningful or lines or [""])[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _clip_sentence(text: str, limit: int) -> str:
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text if text.endswith((".", "!", "?", "…")) else text + "."
