"""How fast Firewatch acknowledges a slash command under load, against a minimal Bolt app in the same run.

Two real processes on loopback, one after the other at each concurrency level:
- `firewatch serve` (HTTP mode, SQLite in a temporary folder, the local Slack stand-in);
- a minimal Bolt app (slack_bolt's Starlette adapter on uvicorn) whose `/incident` listener only acks with text.
Both get the same signed `/incident help` commands (Firewatch answers it in the ack), at 1, 10 and 50 concurrent
clients. Reported: p50/p99 per level, the p99 ratio Firewatch / Bolt (goal at 50: <= 1.2), and each process's
idle resident memory after start-up (goal for Firewatch: < 120 MB).

    python -m benchmarks.ack_latency [-n 300] [--levels 1,10,50] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bot.devtools.fake_slack import TEAM_ID, FakeSlackServer
from bot.devtools.signed_requests import sign
from storage.db import upgrade
from tests.processes import free_port, start_server, stop_server

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
_triggers = itertools.count(1)


def baseline_app(api_url: str):
    """The minimal Bolt app: signature checked by Bolt, the command acked with a short text; its Web API client
    (bolt's auth.test on the first request) points at the same Slack stand-in as Firewatch's."""
    from slack_bolt import App
    from slack_sdk import WebClient
    from slack_bolt.adapter.starlette import SlackRequestHandler
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    app = App(client=WebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET,
              token_verification_enabled=False)

    @app.command("/incident")
    def incident(ack):
        ack(text="*`/incident` commands*\n• `/incident declare [sevN] <title>` — declare an incident")

    handler = SlackRequestHandler(app)

    async def events(request):
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"]),
                             Route("/healthz", lambda _request: JSONResponse({"ok": True}), methods=["GET"])])


def _serve_baseline(port: int, api_url: str) -> None:
    import uvicorn

    uvicorn.run(baseline_app(api_url), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def signed_command(text: str, response_url: str) -> tuple[bytes, dict[str, str]]:
    body = urlencode({"token": "legacy", "team_id": TEAM_ID, "team_domain": "firewatch-demo",
                      "channel_id": "C0GENERAL", "channel_name": "general", "user_id": "U0BENCH",
                      "user_name": "bench", "command": "/incident", "text": text, "api_app_id": "A0FIREWATCH",
                      "is_enterprise_install": "false", "response_url": response_url,
                      "trigger_id": f"1337.{next(_triggers)}.bench"})
    ts = str(int(time.time()))
    return body.encode(), {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                           "X-Slack-Signature": sign(SECRET, ts, body)}


async def load(url: str, concurrency: int, total: int, response_url: str) -> list[float]:
    """`total` signed commands from `concurrency` clients at once; each request's latency in seconds."""
    samples: list[float] = []
    counter = itertools.count()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            while next(counter) < total:
                body, headers = signed_command("help", response_url)
                started = time.perf_counter()
                response = await client.post(url + "/slack/events", content=body, headers=headers)
                samples.append(time.perf_counter() - started)
                if response.status_code != 200 or "/incident declare" not in response.text:
                    raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_processes(workdir: Path, fake_server: FakeSlackServer, url: str):
    upgrade(url)
    config = workdir / "firewatch.yaml"
    config.write_text("{}\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FIREWATCH_"))}
    env = {**base, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
           "FIREWATCH_SLACK_API_URL": fake_server.api_url, "FIREWATCH_DATABASE_URL": url,
           "FIREWATCH_CONFIG": str(config)}
    fw_port = free_port()
    firewatch = start_server(env, fw_port, workdir, timeout=90, log_path=workdir / "firewatch.log")
    bolt_port = free_port()
    bolt = subprocess.Popen([sys.executable, "-m", "benchmarks.ack_latency", "--baseline-server", str(bolt_port),
                             fake_server.api_url],
                            cwd=Path(__file__).resolve().parents[1], env=base,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{bolt_port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            if time.monotonic() > deadline or bolt.poll() is not None:
                raise RuntimeError("the baseline Bolt app did not start") from None
            time.sleep(0.1)
    return (firewatch, f"http://127.0.0.1:{fw_port}"), (bolt, f"http://127.0.0.1:{bolt_port}")


def run(n: int, levels: list[int], postgres: bool = False) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="firewatch-bench-"))
    pg = None
    if postgres:  # a throwaway server of our own (initdb/pg_ctl on a spare port), never a shared one
        from tests.reliability.scenarios import ThrowawayPostgres

        pg = ThrowawayPostgres()
    url = pg.url if pg else f"sqlite:///{workdir / 'bench.db'}"
    print(f"database: {'PostgreSQL (throwaway)' if pg else 'SQLite'}")
    fake_server = FakeSlackServer().start()
    (firewatch, fw_url), (bolt, bolt_url) = start_processes(workdir, fake_server, url)
    response_url = fake_server.response_url("bench")
    try:
        time.sleep(3)  # idle: start-up repair and the first scheduler ticks are done
        idle = {"firewatch": rss_mb(firewatch.pid), "bolt": rss_mb(bolt.pid)}
        for url in (fw_url, bolt_url):  # warm-up: imports, connection pools, first queries
            asyncio.run(load(url, 5, 50, response_url))
        print(f"{'concurrent':>10} {'firewatch p50':>14} {'p99':>8} {'bolt p50':>10} {'p99':>8} {'p99 ratio':>10}")
        for level in levels:
            total = max(n, level * 6)
            fw = asyncio.run(load(fw_url, level, total, response_url))
            base = asyncio.run(load(bolt_url, level, total, response_url))
            ratio = percentile(fw, 0.99) / percentile(base, 0.99)
            print(f"{level:>10} {percentile(fw, .5) * 1000:11.1f} ms {percentile(fw, .99) * 1000:5.1f} ms "
                  f"{percentile(base, .5) * 1000:7.1f} ms {percentile(base, .99) * 1000:5.1f} ms {ratio:9.2f}x",
                  flush=True)
        print(f"idle RSS: firewatch {idle['firewatch']:.0f} MB (goal < 120 MB), minimal Bolt app {idle['bolt']:.0f} MB")
        print(f"loaded RSS: firewatch {rss_mb(firewatch.pid):.0f} MB; {total} requests per level")
    except Exception:
        print("firewatch log (tail):\n" + (workdir / "firewatch.log").read_text(errors="replace")[-3000:])
        raise
    finally:
        stop_server(firewatch)
        bolt.terminate()
        bolt.wait(10)
        fake_server.stop()
        if pg:
            pg.destroy()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="commands per level and app (default 300; at least 6 per "
                                                          "client)")
    parser.add_argument("--levels", default="1,10,50", help="concurrency levels, comma-separated (default 1,10,50)")
    parser.add_argument("--postgres", action="store_true", help="run Firewatch on a throwaway PostgreSQL "
                                                                  "(initdb/pg_ctl) instead of SQLite")
    parser.add_argument("--baseline-server", nargs=2, metavar=("PORT", "API_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        _serve_baseline(int(args.baseline_server[0]), args.baseline_server[1])
        return
    run(args.n, [int(x) for x in args.levels.split(",")], postgres=args.postgres)


if __name__ == "__main__":
    main()
