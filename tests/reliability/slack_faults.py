"""Slack misbehaving: a fifth of all Web API calls answer HTTP 429 (Retry-After: 1) or 5xx, while one `firewatch
serve` runs 30 incident declarations and 20 escalating pages. Shared by the test and by `measure.py`.

A flow is complete when its incident has every Slack set-up step recorded (channel, invite, topic, summary,
pin, announcement); a page when it ran through its whole policy with every step DMed exactly once. Steps whose
retries ran out are finished by the leader's repair sweep (FIREWATCH_SWEEP_SECONDS shortens it to 5 s here) or by
the page's own retry job.

A step DM that fails after the client's retries (which cover 429 and every 5xx) is retried by the page's retry
job before the step times out (`bot.paging.flows.retry_delay`). A DM whose retry fails too is counted as `lost`,
and its failure must be recorded on the page (never silent).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text

from bot.devtools.signed_requests import SlackSender
from tests.reliability.scenarios import (PAGES, PASSES, REQUESTER, SIGNING_SECRET, STEP_SECONDS, STEP_USERS, Cluster,
                                       expected_steps, page_dms)

FLOWS = 30
FAULT_RATE = 0.2
SWEEP_SECONDS = 5


@dataclass
class SlackFaultResult:
    flows: int
    flows_complete: int
    pages: int
    pages_complete: int
    duplicates: int
    lost: int
    incidents_done_s: float | None
    pages_done_s: float | None
    injected: dict = field(default_factory=dict)
    retries: int = 0
    repaired_by_sweep: int = 0
    commands_refused: list[str] = field(default_factory=list)
    lost_errors: dict = field(default_factory=dict)  # Slack error recorded for each lost step DM
    lost_unrecorded: int = 0  # lost step DMs with no failure recorded (a silent loss)

    def row(self) -> str:
        fmt = lambda s: f"{s:.1f} s" if s is not None else "not done"  # noqa: E731
        return (f"| Slack 429/5xx on {FAULT_RATE:.0%} of calls | {self.flows_complete}/{self.flows} flows in "
                f"{fmt(self.incidents_done_s)} | {self.pages_complete}/{self.pages} pages in {fmt(self.pages_done_s)} "
                f"| lost {self.lost} | duplicates {self.duplicates} | injected {self.injected} | "
                f"client retries {self.retries} | incidents finished by the sweep {self.repaired_by_sweep} | "
                f"lost DMs by recorded error {self.lost_errors}, unrecorded {self.lost_unrecorded} |")


def explain_lost(cluster: Cluster, lost: set[tuple[int, int, int]]) -> tuple[dict, int]:
    """For each step DM that never arrived: the error its notification row recorded (None: nothing recorded)."""
    with cluster.engine.connect() as conn:
        rows = conn.execute(text("SELECT page_id, pass_number, step_index, user_id, error FROM page_notifications "
                                 "WHERE error IS NOT NULL")).all()
    errors = {(r[0], r[1], r[2]): r[4] for r in rows if r[3] in STEP_USERS}
    found = Counter(errors[k] for k in lost if k in errors)
    return dict(found), sum(1 for k in lost if k not in errors)


def incomplete_incidents(cluster: Cluster) -> int | None:
    """Incidents still missing a set-up step, or None until all FLOWS exist."""
    with cluster.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT channel_id IS NOT NULL AND reporter_invited AND topic_set AND summary_ts IS NOT NULL "
            "AND summary_pinned AND announcement_ts IS NOT NULL FROM incidents")).all()
    if len(rows) < FLOWS:
        return None
    return sum(1 for (done,) in rows if not done)


def retries(port: int) -> int:
    """Retries the Slack client made, from the replica's own /metrics."""
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return int(sum(float(v) for v in re.findall(r'^firewatch_slack_api_calls_total\{[^}]*outcome="retry"[^}]*\} (\S+)',
                                                  body, re.M)))


def run_slack_faults(database_url: str, workdir: Path, *, seed: int = 7) -> SlackFaultResult:
    cluster = Cluster(database_url, workdir)
    cluster.env["FIREWATCH_SWEEP_SECONDS"] = str(SWEEP_SECONDS)
    try:
        proc, port = cluster.start_replica()
        cluster.wait_leader(proc.pid)
        chaos = cluster.fake.chaos(FAULT_RATE, retry_after=1, seed=seed)
        started = time.monotonic()
        refused = declare_all(cluster, port)
        cluster.fire(port)
        incidents_done = wait_until(lambda: incomplete_incidents(cluster) == 0, started, timeout=120)
        stuck = cluster.wait_pages_done(timeout=PASSES * len(STEP_USERS) * STEP_SECONDS + 120)
        pages_done = None if stuck else time.monotonic() - started
        tally = cluster.tally("slack faults", None, stuck)
        page_ids = [p[0] for p in cluster.pages()]
        lost_errors, unrecorded = explain_lost(cluster, expected_steps(page_ids) - set(page_dms(cluster.fake)))
        with cluster.engine.connect() as conn:
            flows = conn.execute(text("SELECT count(*) FROM incidents")).scalar()
        remaining = incomplete_incidents(cluster)
        repaired = sum(len(re.findall(r"sweep: repaired incidents \{([^}]*)\}", p.read_text(errors="replace")))
                       for p in workdir.glob("replica-*.log"))
        return SlackFaultResult(
            flows=FLOWS, flows_complete=int(flows) - (remaining or 0) if remaining is not None else 0,
            pages=PAGES, pages_complete=PAGES - len(stuck), duplicates=tally.duplicates, lost=tally.lost,
            incidents_done_s=incidents_done, pages_done_s=pages_done, injected=dict(chaos.injected),
            retries=retries(port), repaired_by_sweep=repaired, commands_refused=refused, lost_errors=lost_errors,
            lost_unrecorded=unrecorded)
    finally:
        cluster.close()


def declare_all(cluster: Cluster, port: int) -> list[str]:
    """Send FLOWS `/incident declare` commands; returns the replies that were not an acceptance (none expected)."""
    sender = SlackSender(f"http://127.0.0.1:{port}", SIGNING_SECRET, response_url=cluster.slack.response_url("faults"))
    refused = []
    try:
        for i in range(FLOWS):
            response = sender.command("/incident", f"declare sev3 Fault drill {i:02d}", user=REQUESTER)
            if response.status_code != 200:
                refused.append(f"{response.status_code} {response.text[:80]}")
    finally:
        sender.close()
    return refused


def wait_until(predicate, started: float, timeout: float) -> float | None:
    """Seconds from `started` until `predicate()` holds, or None if it did not within `timeout` (no assert here:
    the caller reports it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return time.monotonic() - started
        except Exception:  # noqa: BLE001 - a transient database error while polling
            pass
        time.sleep(0.2)
    return None
