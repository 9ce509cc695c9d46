"""SQL of the coverage feature: what was last posted per rotation (`coverage_reports`)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.tables_coverage import CoverageReport


def last_report(session: Session, scope: str) -> CoverageReport | None:
    return session.get(CoverageReport, scope)


def remember(session: Session, scope: str, fingerprint: str, count: int, at: datetime) -> None:
    row = session.get(CoverageReport, scope) or CoverageReport(scope=scope, fingerprint=fingerprint, posted_at=at)
    row.fingerprint, row.problem_count, row.posted_at = fingerprint, count, at
    session.add(row)
