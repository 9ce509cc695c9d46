"""Run the fault scenarios several times and print the table of issue 17.

    .venv/bin/python -m tests.reliability.measure --runs 3

Brings its own PostgreSQL (initdb/pg_ctl on a spare loopback port), with a fresh database for every run.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
from pathlib import Path

from sqlalchemy import text

from storage.db import upgrade
from tests.reliability.scenarios import ThrowawayPostgres, run_database_outage, run_leader_failover
from tests.reliability.slack_faults import run_slack_faults


def fresh_database(pg: ThrowawayPostgres, name: str) -> str:
    with pg.admin() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg.url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["sigkill", "sigterm", "outage", "slack"], action="append")
    args = parser.parse_args()
    wanted = args.only or ["sigkill", "sigterm", "outage", "slack"]
    rows, slack_rows = [], []
    for run in range(1, args.runs + 1):
        for scenario in wanted:
            pg = ThrowawayPostgres()
            try:
                work = Path(tempfile.mkdtemp(prefix=f"fw-measure-{scenario}-"))
                if scenario == "slack":
                    fault = run_slack_faults(fresh_database(pg, f"slack{run}"), work, seed=run)
                    print(f"{fault.row()} run {run}", flush=True)
                    slack_rows.append(f"{fault.row()} run {run}")
                    continue
                if scenario == "outage":
                    result = run_database_outage(pg, work)
                    extra = (f"re-elected {result.reelected_s:.2f} s after the restart; "
                             f"takeover column: SIGKILL of the leader afterwards; webhook {result.webhook_status} Retry-After {result.webhook_retry_after}; "
                             f"lock holders {result.lock_holders}; command reply: {result.command_reply[:60]!r}")
                else:
                    sig = signal.SIGKILL if scenario == "sigkill" else signal.SIGTERM
                    result = run_leader_failover(fresh_database(pg, f"run{run}"), work, sig)
                    extra = "; ".join(result.notes)
                row = f"{result.row()} run {run}; {extra}"
                print(row, flush=True)
                rows.append(row)
            finally:
                pg.destroy()
    print("\n| fault | takeover | notifications due | delivered | lost | pages stuck |\n|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    if slack_rows:
        print("\nSlack fault run (time from the first command until every flow / page completed):")
        for row in slack_rows:
            print(row)


if __name__ == "__main__":
    main()
