"""The assist feature's SQL for hypothesis feedback (Accept/Dismiss) and the precision report."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import SuggestionRecord
from storage.tables_telemetry import HypothesisFeedback


def add_feedback(s: Session, row: HypothesisFeedback) -> bool:
    """Store one decision; False if this hypothesis was already decided (first decision wins)."""
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError:
        return False
    return True


def feedback_for(s: Session, suggestion_id: int) -> list[HypothesisFeedback]:
    return list(s.exec(select(HypothesisFeedback).where(HypothesisFeedback.suggestion_id == suggestion_id)
                       .order_by(HypothesisFeedback.rank)).all())


def decision_counts(s: Session) -> list[tuple[str, str, int]]:
    """(kind, decision, count): hypotheses by what they rest on, plus triage suggestions as kind "triage"."""
    hyp = s.exec(select(HypothesisFeedback.kind, HypothesisFeedback.decision, func.count())
                 .group_by(HypothesisFeedback.kind, HypothesisFeedback.decision)).all()
    tri = s.exec(select(SuggestionRecord.status, func.count()).where(SuggestionRecord.kind == "triage")
                 .where(SuggestionRecord.status.in_(("accepted", "dismissed"))).group_by(SuggestionRecord.status)).all()
    return [(k, d, n) for k, d, n in hyp] + [("triage", d, n) for d, n in tri]
