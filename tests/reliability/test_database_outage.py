"""PostgreSQL stopped for 20 s under two replicas with 20 pages escalating, then started again. Brings its own
PostgreSQL (initdb/pg_ctl on a spare loopback port), so it runs on every run of the suite."""

from __future__ import annotations

import pytest

from tests.reliability.scenarios import DUE, PAGES, PASSES, STEP_USERS, ThrowawayPostgres, run_database_outage


@pytest.fixture
def own_postgres():
    pg = ThrowawayPostgres()
    yield pg
    pg.destroy()


def test_database_outage_loses_nothing_and_leaves_one_leader(own_postgres, tmp_path):
    result = run_database_outage(own_postgres, tmp_path)
    print(result.row())
    assert (result.delivered, result.duplicates, result.lost, result.stuck) == (DUE, 0, 0, 0), result
    assert sorted(result.exhausted_notices.values()) == [1] * PAGES, result.exhausted_notices
    steps_after_the_first = PASSES * len(STEP_USERS) - 1
    assert sorted(result.escalation_notices.values()) == [steps_after_the_first] * PAGES, result.escalation_notices
    # Exactly one leader afterwards: one session holds the lock, and the epoch names a live replica.
    assert result.lock_holders == 1 and result.leader_alive, result
    assert result.reelected_s < 15, result  # campaigning resumed after the outage, with bounded back-off
    # The other replica kept campaigning through the outage: it takes over when the leader is killed.
    assert result.takeover_after_outage_s < 10, result
    # During the outage, alert sources are told to retry and people get a clear reply.
    assert result.webhook_status == 503 and result.webhook_retry_after, result
    assert "can't reach its database" in result.command_reply, result
