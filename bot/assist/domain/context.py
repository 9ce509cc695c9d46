"""Preparing incident and evidence for a prompt: redaction, size limits, and the facts used to check the reply
(the evidence ids the bot supplied and the URLs the model may repeat)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.assist.domain.models import EvidenceItem, Incident
from bot.assist.domain.redaction import Redactor

URL = re.compile(r"https?://[^\s<>\"'`\]\)]+")
_TRAILING = ".,;:!?"

# Bound the prompt: a noisy alert storm must not blow the context window or the bill.
MAX_ITEM_CHARS = 1500
MAX_ITEMS = 40
MAX_DESCRIPTION_CHARS = 3000


def find_urls(text: str | None) -> list[str]:
    """URLs in `text`, without trailing punctuation."""
    return [u.rstrip(_TRAILING) for u in URL.findall(text or "")]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " …[truncated]"


@dataclass
class PreparedContext:
    redactor: Redactor
    incident: dict[str, Any]
    evidence: list[dict[str, Any]]
    known_ids: list[str]
    allowed_urls: set[str] = field(default_factory=set)

    @property
    def mapping(self) -> dict[str, str]:
        return self.redactor.mapping


def prepare(
    incident: Incident,
    evidence: list[EvidenceItem],
    *,
    max_items: int = MAX_ITEMS,
    max_item_chars: int = MAX_ITEM_CHARS,
) -> PreparedContext:
    """Redact everything that will leave the process and collect what the reply may refer to."""
    r = Redactor()
    inc = {
        "title": r.redact(_clip(incident.title or "", 300)),
        "description": r.redact(_clip(incident.description or "", MAX_DESCRIPTION_CHARS)),
        "severity": incident.severity,
        "status": incident.status,
        "started_at": incident.started_at.isoformat() if incident.started_at else None,
    }
    items: list[dict[str, Any]] = []
    allowed: set[str] = set()
    for e in evidence[:max_items]:
        text = r.redact(_clip(e.text or "", max_item_chars))
        if e.labels:
            # Labels are as untrusted as the text; they go inside the same block.
            text = " ".join(f"{k}={r.redact(str(v))}" for k, v in sorted(e.labels.items())) + "\n" + text
        url = r.redact(e.url) if e.url else None
        items.append(
            {"id": e.id, "kind": e.kind, "text": text, "url": url, "time": e.time.isoformat() if e.time else None}
        )
        allowed.update(find_urls(text))
        if url:
            allowed.add(url.rstrip(_TRAILING))
    return PreparedContext(r, inc, items, [i["id"] for i in items], allowed)
