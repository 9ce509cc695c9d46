"""Similar past incidents: a small hand-written BM25 (Okapi) ranking over past incidents and postmortems.

The corpus is small (hundreds to a few thousand documents), so an in-memory index rebuilt on demand is enough and
avoids a dependency. Titles are weighted by repeating their tokens, since a title is a dense summary.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.assist.domain.models import EvidenceItem

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")
# Pieces of CamelCase alert names (KubePodOOMKilled -> Kube, Pod, OOM, Killed).
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOP = frozenset(
    "a an and are as at be but by for from has have in is it its of on or that the this to was were will with "
    "after before during into not no we our".split()
)


def _norm(tok: str) -> str:
    return tok[:-1] if len(tok) > 4 and tok.endswith("s") and not tok.endswith("ss") else tok


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens, stop words removed, plural `s` stripped. Compounds are kept whole *and* split, so
    `payments-api` also matches `payments`, and `KubePodOOMKilled` matches `oom`."""
    out: list[str] = []
    for raw in _TOKEN.findall(text or ""):
        whole = raw.lower()
        compound = "-" in raw or "_" in raw or re.search(r"[a-z][A-Z]", raw)
        parts = [p.lower() for piece in re.split(r"[-_]", raw) for p in _CAMEL.findall(piece)] if compound else []
        for tok in [whole] + (parts if len(parts) > 1 else []):
            if tok not in _STOP:
                out.append(_norm(tok))
    return out


@dataclass(frozen=True)
class PastDoc:
    """A past incident or published postmortem."""

    id: str
    title: str
    text: str
    url: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # e.g. severity/owner of the past incident
    private: bool = False  # a private incident: never ranked as similar to anything else


@dataclass(frozen=True)
class SimilarMatch:
    doc: PastDoc
    score: float


class BM25Index:
    """Okapi BM25 with the non-negative idf variant log(1 + (N - df + .5) / (df + .5))."""

    def __init__(self, docs: Sequence[PastDoc], *, k1: float = 1.5, b: float = 0.75, title_weight: int = 2):
        self.docs = list(docs)
        self.k1, self.b = k1, b
        self._tf: list[Counter[str]] = []
        self._len: list[int] = []
        df: Counter[str] = Counter()
        for d in self.docs:
            tokens = tokenize(d.title) * title_weight + tokenize(d.text)
            tf = Counter(tokens)
            self._tf.append(tf)
            self._len.append(len(tokens))
            df.update(tf.keys())
        n = len(self.docs)
        self._avg = (sum(self._len) / n) if n else 0.0
        self._idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def score(self, query_tokens: Sequence[str], i: int) -> float:
        tf, length = self._tf[i], self._len[i]
        norm = self.k1 * (1 - self.b + self.b * length / self._avg) if self._avg else self.k1
        total = 0.0
        for t in set(query_tokens):
            f = tf.get(t)
            if f:
                total += self._idf[t] * f * (self.k1 + 1) / (f + norm)
        return total

    def search(self, query: str, k: int = 5, min_score: float = 0.0, relative_cutoff: float = 0.0) -> list[SimilarMatch]:
        """Top-k documents by score (ties by id); documents sharing no term with the query are left out, and so are
        those scoring below `min_score` or below `relative_cutoff` × the best score."""
        q = tokenize(query)
        scored = [(self.score(q, i), d) for i, d in enumerate(self.docs)]
        best = max((s for s, _ in scored), default=0.0)
        floor = max(min_score, relative_cutoff * best)
        ranked = sorted((s for s in scored if s[0] > 0 and s[0] >= floor), key=lambda s: (-s[0], s[1].id))
        return [SimilarMatch(d, round(s, 4)) for s, d in ranked[:k]]


def similar(
    query: str, docs: Sequence[PastDoc], k: int = 5, min_score: float = 0.0, relative_cutoff: float = 0.0
) -> list[SimilarMatch]:
    """Rank `docs` against `query` (e.g. the new incident's title + description + alert text). Private documents
    are left out (a second guard behind the caller's query), so they cannot even shift the idf of the others."""
    return BM25Index([d for d in docs if not d.private]).search(query, k, min_score, relative_cutoff)


def similar_as_evidence(matches: Sequence[SimilarMatch], start: int = 1, max_chars: int = 400) -> list[EvidenceItem]:
    """Evidence items (kind `similar_incident`) numbered from E<start>."""
    items = []
    for n, m in enumerate(matches, start=start):
        body = " ".join(m.doc.text.split())
        body = body if len(body) <= max_chars else body[: max_chars - 1] + "…"
        items.append(
            EvidenceItem(
                id=f"E{n}",
                kind="similar_incident",
                text=f"Past incident {m.doc.id}: {m.doc.title}\n{body}",
                url=m.doc.url,
                labels=dict(m.doc.labels),
            )
        )
    return items
