"""BM25 similar-incident ranking, change-event validation and the selection window."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from bot.assist.domain import (
    ChangeEvent,
    PastDoc,
    changes_as_evidence,
    select_changes,
    similar,
    similar_as_evidence,
)
from bot.assist.domain.similar import BM25Index, tokenize

CORPUS = [
    PastDoc("INC-101", "Checkout 500s after payments-api deploy",
            "payments-api returned 500 errors for checkout after a bad deploy; rolled back.", "https://pm/101"),
    PastDoc("INC-102", "Postgres disk full", "The primary postgres volume filled up; writes failed.", "https://pm/102"),
    PastDoc("INC-103", "Slow search", "Search latency rose after an index rebuild; checkout unaffected.", None),
    PastDoc("INC-104", "Login outage", "SSO provider certificate expired; nobody could log in.", None),
]


def test_bm25_ranks_most_relevant_first_and_omits_unrelated():
    matches = similar("checkout failing with 500s on payments-api", CORPUS, k=3)
    assert [m.doc.id for m in matches] == ["INC-101", "INC-103"]
    assert matches[0].score > matches[1].score > 0


def test_bm25_rare_terms_outweigh_common_ones():
    matches = similar("postgres writes failed", CORPUS)
    assert matches[0].doc.id == "INC-102"
    assert similar("certificate expired", CORPUS)[0].doc.id == "INC-104"


def test_bm25_top_k_and_empty_inputs():
    assert len(similar("checkout", CORPUS, k=1)) == 1
    assert similar("checkout", [], k=3) == []
    assert similar("", CORPUS) == []
    assert BM25Index(CORPUS).search("zebra unicorn") == []


def test_tokenizer_keeps_service_names_and_drops_stopwords():
    assert tokenize("The payments-api is DOWN, errors in v2.4") == ["payments-api", "payment", "api", "down", "error", "v2.4"]
    assert tokenize("KubePodOOMKilled") == ["kubepodoomkilled", "kube", "pod", "oom", "killed"]


def test_similar_matches_become_numbered_evidence():
    items = similar_as_evidence(similar("postgres disk", CORPUS, k=1), start=4)
    assert items[0].id == "E4" and items[0].kind == "similar_incident"
    assert items[0].url == "https://pm/102" and "INC-102" in items[0].text


START = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def change(service: str, minutes_before: float, **kw) -> ChangeEvent:
    return ChangeEvent(service=service, version=kw.get("version", "1.0"), author="ci", description="deploy",
                       timestamp=START - timedelta(minutes=minutes_before), url=kw.get("url"))


def test_change_event_validation():
    ok = ChangeEvent.model_validate({"service": " payments-api ", "version": "2.4.1", "author": "alice",
                                     "description": "tokenizer", "timestamp": "2024-05-01T11:40:00+02:00",
                                     "url": "https://ci.example.com/881", "pipeline": "ignored"})
    assert ok.service == "payments-api" and ok.timestamp.utcoffset() == timedelta(hours=2)
    with pytest.raises(ValidationError):
        ChangeEvent.model_validate({"service": "x", "timestamp": "2024-05-01T11:40:00"})  # naive
    with pytest.raises(ValidationError):
        ChangeEvent.model_validate({"service": "", "timestamp": "2024-05-01T11:40:00Z"})
    with pytest.raises(ValidationError):
        ChangeEvent.model_validate({"service": "x", "timestamp": "2024-05-01T11:40:00Z", "url": "javascript:alert(1)"})


def test_select_changes_window_and_services():
    changes = [
        change("payments-api", 20, version="a"),
        change("payments-api", 6 * 60, version="edge-inclusive"),
        change("payments-api", 6 * 60 + 1, version="too-old"),
        change("payments-api", -5, version="after-start"),
        change("search", 30, version="other-service"),
        change("Payments-API", 90, version="case"),
    ]
    picked = select_changes(changes, ["payments-api"], START)
    assert [c.version for c in picked] == ["a", "case", "edge-inclusive"]
    assert [c.version for c in select_changes(changes, ["payments-api"], START, hours=1)] == ["a"]
    assert {c.version for c in select_changes(changes, None, START)} == {"a", "case", "edge-inclusive", "other-service"}
    # A naive incident start is read as UTC.
    assert len(select_changes(changes, ["search"], START.replace(tzinfo=None))) == 1


def test_changes_become_evidence():
    items = changes_as_evidence([change("payments-api", 20, url="https://ci/1")], start=2)
    assert items[0].id == "E2" and items[0].kind == "change" and items[0].url == "https://ci/1"
    assert items[0].labels == {"service": "payments-api"} and items[0].time == START - timedelta(minutes=20)


def test_relative_cutoff_drops_weak_matches():
    loose = similar("checkout 500s payments-api deploy latency", CORPUS, k=4)
    strict = similar("checkout 500s payments-api deploy latency", CORPUS, k=4, relative_cutoff=0.5)
    assert len(strict) < len(loose) and strict[0].doc.id == loose[0].doc.id == "INC-101"
    assert all(m.score >= 0.5 * strict[0].score for m in strict)
