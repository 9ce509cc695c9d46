"""Alertmanager notify → first page DM, with a slow or rate-limiting Slack, and an alert storm.

One Firewatch in this process (HTTP on loopback, SQLite in a temporary folder, the local Slack stand-in), routes
opening an incident per alert group. Each case POSTs Alertmanager-style notifications to /webhooks/alertmanager,
all groups at once, and measures per group the time from the POST to the stand-in answering the page's first DM:
- baseline: Slack answering at once (the ratios below are against it, measured in the same run);
- slow: every Slack call answered 300 ms late;
- rate-limited: `conversations.create` answered 429 with Retry-After (each incident channel waits for it).
Goal: p99 under 1 s in both. The storm case sends 1,000 alerts in 20 groups and counts pages, DMs and Slack
calls made.

    python -m benchmarks.paging [--groups 30] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import select

from bot.config import parse_config
from bot.devtools.fake_slack import FakeSlackServer
from bot.paging import intake
from bot.server import build_context, start_in_thread
from bot.settings import Settings
from storage.db import upgrade
from storage.models import AlertRecord, PageNotification, PageRecord

TOKEN = "bench-webhook-token"
ONCALL, SECOND, LEAD = "U0BENCHA", "U0BENCHB", "U0BENCHLEAD"
SLOW_SECONDS = 0.3
RETRY_AFTER = 1


def bench_config() -> dict[str, Any]:
    return {
        "admins": [ONCALL],
        "rotations": [{"name": "payments", "timezone": "UTC", "shift": {"length": "1d", "handoff_time": "10:00"},
                       "members": [{"user": ONCALL, "timezone": "UTC"}, {"user": SECOND, "timezone": "UTC"}],
                       "rules": {"min_rest_shifts": 0}}],
        "escalation_policies": [{"name": "payments", "channel": "C0BENCHPAY", "repeat": 1,
                                 "steps": [{"notify": "rotation:payments", "timeout": "30m"},
                                           {"notify": f"user:{LEAD}", "timeout": "30m"}]}],
        "alert_routes": [{"match": {"team": "payments"}, "policy": "payments", "open_incident": True}],
        "webhooks": {"fallback_channel": "C0BENCHALERTS"},
    }


def notification(case: str, group: int, alerts: int) -> bytes:
    """An Alertmanager webhook body (version 4) for one group of `alerts` firing alerts."""
    key = f"{case}-g{group:03d}"
    items = [{"status": "firing", "labels": {"alertname": "Fire", "team": "payments", "severity": "critical",
                                             "group": key, "pod": f"api-{i}"},
              "annotations": {"summary": f"Checkout is on fire ({key})", "runbook_url": "https://runbooks.example/x"},
              "startsAt": "2026-12-03T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "http://prometheus:9090/graph", "fingerprint": f"{key}-{i:04d}"}
             for i in range(alerts)]
    return json.dumps({"version": "4", "status": "firing", "receiver": "firewatch",
                       "groupKey": f'{{}}/{{team="payments"}}:{{group="{key}"}}', "groupLabels": {"group": key},
                       "commonLabels": {"team": "payments"}, "commonAnnotations": {},
                       "externalURL": "http://alertmanager:9093", "alerts": items}).encode()


@dataclass
class Bench:
    """A running Firewatch on the stand-in, with what the cases need to observe it."""

    url: str
    running: Any
    fake_server: FakeSlackServer
    workdir: Path
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=60))

    @property
    def fake(self):
        return self.fake_server.fake

    @property
    def ctx(self):
        return self.running.ctx

    def stop(self) -> None:
        self.client.close()
        self.running.stop()
        self.fake_server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_bench() -> Bench:
    workdir = Path(tempfile.mkdtemp(prefix="firewatch-paging-bench-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    fake_server = FakeSlackServer().start()
    for uid, name in ((ONCALL, "Ana"), (SECOND, "Ben"), (LEAD, "Lee")):
        fake_server.fake.add_user(uid, name)
    for cid, name in (("C0BENCHPAY", "payments"), ("C0BENCHALERTS", "alerts")):
        fake_server.fake.add_channel(cid, name)
    os.environ["FIREWATCH_WEBHOOK_TOKEN"] = TOKEN
    settings = Settings(SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET="bench-signing-secret",
                        FIREWATCH_SLACK_API_URL=fake_server.api_url, FIREWATCH_DATABASE_URL=url)
    running = start_in_thread(build_context(settings, parse_config(bench_config())))
    return Bench(url=running.url, running=running, fake_server=fake_server, workdir=workdir)


def notify_all(bench: Bench, bodies: list[bytes]) -> list[float]:
    """POST every notification at once (as Alertmanager does for groups flushed together); returns when each
    POST was sent (wall clock, like the stand-in's call times)."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}

    def post(body: bytes) -> float:
        sent = time.time()
        response = bench.client.post(f"{bench.url}/webhooks/alertmanager", content=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"notify answered {response.status_code}: {response.text[:200]}")
        return sent

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def first_dm_answered(bench: Bench, case: str, group: int) -> float | None:
    """When the stand-in answered the first DM of the group's page (None if it never went out)."""
    with bench.ctx.session() as s:
        alert = s.exec(select(AlertRecord).where(AlertRecord.fingerprint == f"{case}-g{group:03d}-0000")).first()
        if alert is None or alert.page_id is None:
            return None
        notes = s.exec(select(PageNotification).where(PageNotification.page_id == alert.page_id,
                                                      PageNotification.error.is_(None))
                       .order_by(PageNotification.id)).all()
    ts = next((n.message_ts for n in notes if n.message_ts), None)
    call = next((c for c in bench.fake.calls_to("chat.postMessage") if c.response.get("ts") == ts), None)
    return call.answered_at if call is not None else None


def latency_case(bench: Bench, case: str, groups: int) -> dict[str, Any]:
    """Notify → first DM for `groups` groups of 3 alerts; p50/p99 in seconds."""
    sent = notify_all(bench, [notification(case, g, 3) for g in range(groups)])
    intake.process_pending(bench.ctx)  # waits for every group's lane: pages, then incidents
    samples = []
    for g, at in enumerate(sent):
        answered = first_dm_answered(bench, case, g)
        if answered is None:
            raise RuntimeError(f"{case}: group {g} was never paged")
        samples.append(answered - at)
    return {"case": case, "groups": groups, "p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99)}


def storm_case(bench: Bench, alerts: int = 1000, groups: int = 20) -> dict[str, Any]:
    """`alerts` alerts in `groups` groups at once: pages, page DMs and Slack calls made (by method)."""
    before = len(bench.fake.calls)
    with bench.ctx.session() as s:
        pages_before = len(s.exec(select(PageRecord.id)).all())
    started = time.monotonic()
    notify_all(bench, [notification("storm", g, alerts // groups) for g in range(groups)])
    intake.process_pending(bench.ctx)
    elapsed = time.monotonic() - started
    calls = bench.fake.calls[before:]
    with bench.ctx.session() as s:
        pages = len(s.exec(select(PageRecord.id)).all()) - pages_before
    dms = [c for c in calls if c.method == "chat.postMessage" and str(c.params.get("channel", "")).startswith("D")
           and not c.params.get("thread_ts")]
    return {"case": "storm", "alerts": alerts, "groups": groups, "pages": pages, "dms": len(dms),
            "slack_calls": len(calls), "by_method": dict(Counter(c.method for c in calls)), "seconds": elapsed}


def run_cases(groups: int, storm_alerts: int = 1000) -> dict[str, Any]:
    """Every case on one Firewatch; returns the figures (the structure the benchmark's test checks)."""
    bench = start_bench()
    try:
        latency_case(bench, "warmup", 3)  # imports, connection pools, first queries
        results = [latency_case(bench, "baseline", groups)]
        bench.fake.slow(None, SLOW_SECONDS)
        results.append(latency_case(bench, "slow", groups))
        bench.fake.slow(None, 0.0)
        bench.fake.fail("conversations.create", status=429, retry_after=RETRY_AFTER, times=groups)
        results.append(latency_case(bench, "ratelimited", groups))
        storm = storm_case(bench, storm_alerts)
    finally:
        bench.stop()
    return {"latency": results, "storm": storm}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def print_table(figures: dict[str, Any]) -> None:
    base = figures["latency"][0]
    print(f"{'notify → first DM':<34} {'groups':>6} {'p50':>9} {'p99':>9} {'p99 / baseline':>15} {'goal':>10}")
    labels = {"baseline": "baseline (Slack answers at once)", "slow": f"every Slack call +{SLOW_SECONDS * 1000:.0f} ms",
              "ratelimited": f"conversations.create 429 ({RETRY_AFTER} s)"}
    for row in figures["latency"]:
        goal = "" if row["case"] == "baseline" else ("p99 < 1 s " + ("ok" if row["p99"] < 1 else "MISSED"))
        print(f"{labels[row['case']]:<34} {row['groups']:>6} {row['p50'] * 1000:6.0f} ms {row['p99'] * 1000:6.0f} ms "
              f"{row['p99'] / base['p99']:14.1f}x {goal:>10}")
    storm = figures["storm"]
    print(f"\nstorm: {storm['alerts']} alerts in {storm['groups']} groups -> {storm['pages']} pages, "
          f"{storm['dms']} page DMs, {storm['slack_calls']} Slack calls in {storm['seconds']:.1f} s")
    print("  by method: " + ", ".join(f"{m} {n}" for m, n in sorted(storm["by_method"].items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=30, help="alert groups per latency case (default 30)")
    parser.add_argument("--quick", action="store_true", help="5 groups per latency case, a storm of 200 alerts")
    args = parser.parse_args()
    print_table(run_cases(5, 200) if args.quick else run_cases(args.groups))


if __name__ == "__main__":
    main()
