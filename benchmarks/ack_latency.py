"""How fast Firewatch acknowledges Slack (Slack gives up after 3 s), against a baseline in the same run.

Starts the real HTTP server on loopback against the local Slack stand-in (SQLite in a temporary folder) and
measures, over N requests each:
- baseline: `GET /healthz` (one trivial database query: the floor of this HTTP stack);
- `/incident help` (a signed slash command answered in the ack);
- `/incident declare` (the ack only; the channel set-up continues after it), and the full declare until the
  summary is pinned and the announcement posted.

    python -m benchmarks.ack_latency [-n 40]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bot.config import parse_config
from bot.devtools.fake_slack import FakeSlackServer
from bot.devtools.signed_requests import SlackSender
from bot.server import build_context, start_in_thread
from bot.settings import Settings
from storage.db import upgrade

SECRET = "bench-signing-secret"


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def run(n: int) -> dict[str, tuple[float, float]]:
    workdir = Path(tempfile.mkdtemp(prefix="firewatch-bench-"))
    fake_server = FakeSlackServer().start()
    fake = fake_server.fake
    fake.add_user("U0BENCH", "Bench")
    fake.add_channel("C0ANNOUNCE", "incidents")
    url = f"sqlite:///{workdir / 'bench.db'}"
    upgrade(url)
    settings = Settings(SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET,
                        FIREWATCH_SLACK_API_URL=fake_server.api_url, FIREWATCH_DATABASE_URL=url)
    ctx = build_context(settings, parse_config({"incidents": {"announcements_channel": "C0ANNOUNCE"}}))
    running = start_in_thread(ctx)
    sender = SlackSender(running.url, SECRET, response_url=fake_server.response_url("bench"))
    results: dict[str, list[float]] = {"healthz (baseline)": [], "/incident help": [], "/incident declare (ack)": [],
                                       "/incident declare (set-up done)": []}
    try:
        with httpx.Client() as http:
            for _ in range(n):
                t = time.perf_counter()
                http.get(running.url + "/healthz")
                results["healthz (baseline)"].append(time.perf_counter() - t)
        for _ in range(n):
            t = time.perf_counter()
            sender.command("/incident", "help", user="U0BENCH")
            results["/incident help"].append(time.perf_counter() - t)
        for i in range(n):
            before = len(fake.calls_to("pins.add"))
            t = time.perf_counter()
            r = sender.command("/incident", f"declare sev3 Benchmark incident {i}", user="U0BENCH")
            results["/incident declare (ack)"].append(time.perf_counter() - t)
            assert r.status_code == 200
            fake.wait_for(lambda f: len(f.calls_to("pins.add")) > before and len(
                [c for c in f.calls_to("chat.postMessage") if c.params["channel"] == "C0ANNOUNCE"]) > before)
            results["/incident declare (set-up done)"].append(time.perf_counter() - t)
    finally:
        sender.close()
        running.stop()
        fake_server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {name: _stats(samples) for name, samples in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="requests per measurement (default 40)")
    args = parser.parse_args()
    stats = run(args.n)
    base = stats["healthz (baseline)"][0]
    print(f"{'measurement':34} {'p50 ms':>8} {'p95 ms':>8} {'p50 / baseline':>15}")
    for name, (p50, p95) in stats.items():
        print(f"{name:34} {p50 * 1000:8.1f} {p95 * 1000:8.1f} {p50 / base:14.1f}x")
    ack_p95 = stats["/incident declare (ack)"][1]
    print(f"declare ack p95 {ack_p95 * 1000:.0f} ms: {'within' if ack_p95 < 3 else 'OVER'} Slack's 3 s limit "
          f"({3 / ack_p95:.0f}x headroom)")


if __name__ == "__main__":
    main()
