"""The scheduler leader dies (SIGKILL) or is stopped (SIGTERM) with 20 pages escalating: the follower takes over
within 10 s, every due DM goes out exactly once, no page is left stuck.

Needs PostgreSQL (replicas share one database): runs in the FIREWATCH_TEST_DATABASE_URL run of the suite, where
`database_url` is a fresh PostgreSQL database. On the SQLite run it is reported as skipped, never as passed."""

from __future__ import annotations

import signal

import pytest

from tests.reliability.scenarios import DUE, PAGES, PASSES, STEP_USERS, run_leader_failover


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_leader_failover_delivers_every_due_notification_exactly_once(sig, database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("several replicas need PostgreSQL: runs with FIREWATCH_TEST_DATABASE_URL set")
    result = run_leader_failover(database_url, tmp_path, sig)
    print(result.row())
    assert result.due == DUE
    assert (result.delivered, result.duplicates, result.lost, result.stuck) == (DUE, 0, 0, 0), result
    assert result.takeover_s < 10, result
    # The end of the policy is announced once per page, whichever replica got there.
    assert sorted(result.exhausted_notices.values()) == [1] * PAGES, result.exhausted_notices
    steps_after_the_first = PASSES * len(STEP_USERS) - 1
    assert sorted(result.escalation_notices.values()) == [steps_after_the_first] * PAGES, result.escalation_notices
    if sig is signal.SIGTERM:
        assert "leader exit code 0" in result.notes, result.notes  # stopped cleanly, stop hooks ran
