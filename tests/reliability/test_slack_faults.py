"""Slack answering 429 (with Retry-After) or 5xx on a fifth of its calls: every one of 30 incident flows and 20 pages
still completes; no step is DMed twice, a DM that failed after the client's retries is retried before its step
times out, and one that still fails is recorded as failed on its page. One real `firewatch serve`, on either backend. The time it took
is printed by `python -m tests.reliability.measure --only slack`, not asserted."""

from __future__ import annotations

from tests.reliability.slack_faults import FLOWS, run_slack_faults
from tests.reliability.scenarios import PAGES


def test_every_flow_and_page_completes_while_slack_rate_limits_and_fails(database_url, tmp_path):
    result = run_slack_faults(database_url, tmp_path)
    print(result.row())
    assert result.commands_refused == [], result
    assert (result.flows_complete, result.pages_complete) == (FLOWS, PAGES), result
    assert result.duplicates == 0, result
    # A step DM Slack refused even on its retry (the retry can hit a fault too) is recorded as failed on its page,
    # and the page went on: never a silent loss. Runs measured here lose 0-1 of 120.
    assert result.lost_unrecorded == 0, result
    assert sum(result.lost_errors.values()) == result.lost, result
    # The faults really happened and the client really retried through them.
    assert result.injected.get(429) and sum(v for k, v in result.injected.items() if k >= 500), result
    assert result.retries > 0, result
