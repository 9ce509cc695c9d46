"""Issue 15: triage never lowers a severity a human chose without independent evidence; `says_something` decides
whether a declare-time suggestion is posted at all."""

from __future__ import annotations

from sqlmodel import select

from bot.assist.domain import EvidenceItem, Incident, RotationOption, SeverityOption, triage
from bot.assist.domain.triage import keep_declared_severity, says_something
from storage.models import SuggestionRecord
from tests.assist.conftest import CONFIG, join_assist_threads, wait_post

SEVERITIES = [SeverityOption("sev1", "critical"), SeverityOption("sev2", "major"), SeverityOption("sev3", "minor")]


def heuristic(title: str, severity: str, evidence=()):
    return triage(Incident(title, severity=severity), list(evidence), SEVERITIES, [RotationOption("payments")], None,
                  default_severity="sev3")


def test_human_severity_is_not_lowered_without_evidence():
    raw = heuristic("checkout a bit slow for some users", "sev1")
    assert raw.severity == "sev3" and raw.evidence_ids == []  # "slow" alone reads as sev3
    kept = keep_declared_severity(raw, "sev1", SEVERITIES)
    assert kept.severity == "sev1" and "kept the declared sev1" in kept.note
    assert not says_something(kept, "sev1")  # same severity, no owner, only the generic first step


def test_cited_evidence_may_lower_and_raising_is_kept():
    alert = EvidenceItem("E1", "alert", "Alert firing: CheckoutSlow\nseverity: warning", labels={"severity": "warning"})
    cited = heuristic("checkout a bit slow", "sev1", [alert])
    assert cited.severity != "sev1" and cited.evidence_ids == ["E1"]
    assert keep_declared_severity(cited, "sev1", SEVERITIES, [alert]).severity == cited.severity
    own_words = EvidenceItem("E1", "timeline", "[declared] checkout a bit slow")
    restated = heuristic("checkout a bit slow", "sev1", [own_words])
    assert keep_declared_severity(restated, "sev1", SEVERITIES, [own_words]).severity == "sev1"
    raised = heuristic("checkout outage for all customers", "sev3")
    assert raised.severity == "sev1"
    assert keep_declared_severity(raised, "sev3", SEVERITIES).severity == "sev1"
    assert says_something(raised, "sev3")


def test_declare_keeps_the_declared_severity(harness_factory):
    h = harness_factory(CONFIG)
    channel = h.declare("sev1 checkout a bit slow for some users")
    # At declare the kept suggestion says nothing new, so it is not posted (nor stored); asked for, it is shown.
    h.command("triage", channel=channel)
    wait_post(h, channel, "triage for")
    join_assist_threads(h)
    with h.ctx.session() as s:
        rows = s.exec(select(SuggestionRecord)).all()
    assert [(r.payload["trigger"], r.payload["suggestion"]["severity"]) for r in rows] == [("command", "sev1")]
    assert "kept the declared sev1" in rows[0].payload["suggestion"]["note"]
