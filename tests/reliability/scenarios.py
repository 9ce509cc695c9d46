"""Fault scenarios against real `firewatch serve` processes, shared by the tests and by `measure.py`.

Each scenario starts its own fake Slack, two replicas on one PostgreSQL database, fires 20 alerts (20 pages, a
policy of 3 steps x 2 passes with short timeouts: 120 DMs due), injects a fault while they escalate, and then
counts, in the fake Slack, every DM each page step produced. A step DMed twice is a duplicate, a step never DMed
is lost, a page that never reaches the end of its policy is stuck.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from sqlalchemy import text

from bot.devtools.fake_slack import FakeSlackServer
from bot.devtools.signed_requests import SlackSender
from bot.paging.messages import parse_page_action_block_id
from bot.scheduler import LEADER_LOCK_KEY
from storage.db import make_engine, upgrade
from tests.processes import free_port, start_server

BOT_TOKEN = "xoxb-reliability-0000"
SIGNING_SECRET = "reliability-signing-secret"
WEBHOOK_TOKEN = "reliability-webhook-token"
STEP_USERS = ("U0STEPA", "U0STEPB", "U0STEPC")
REQUESTER = "U0REQUEST"
DRILL_CHANNEL = "C0DRILL"
PAGES = 20
PASSES = 2
STEP_SECONDS = 3
DUE = PAGES * PASSES * len(STEP_USERS)


@dataclass
class Result:
    fault: str
    takeover_s: float | None
    due: int
    delivered: int
    duplicates: int
    lost: int
    stuck: int
    exhausted_notices: Counter = field(default_factory=Counter)
    escalation_notices: Counter = field(default_factory=Counter)
    duplicate_steps: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self) -> str:
        takeover = f"{self.takeover_s:.2f} s" if self.takeover_s is not None else "-"
        return (f"| {self.fault} | {takeover} | {self.due} | {self.delivered} | {self.lost} | {self.stuck} |"
                + (f" duplicates: {self.duplicates}" if self.duplicates else ""))


def drill_config() -> dict:
    return {
        "admins": [REQUESTER],
        "incidents": {"announcements_channel": "C0ANNOUNCE"},
        "escalation_policies": [{
            "name": "drill", "channel": DRILL_CHANNEL, "repeat": PASSES,
            "steps": [{"notify": f"user:{u}", "timeout": f"{STEP_SECONDS}s"} for u in STEP_USERS],
        }],
        "alert_routes": [{"match": {"alertname": "Drill"}, "policy": "drill"}],
        "webhooks": {"fallback_channel": DRILL_CHANNEL},
    }


def alert_payload(count: int, tag: str = "x", group: str | None = None) -> bytes:
    """One Alertmanager notification: `count` alerts of one group (one page)."""
    alerts = [{"status": "firing", "labels": {"alertname": "Drill", "instance": f"{tag}-{i:02d}"},
               "annotations": {"summary": f"drill {tag} {i}"}, "startsAt": "2026-12-01T10:00:00Z",
               "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus.invalid/graph"}
              for i in range(count)]
    body = {"version": "4", "status": "firing", "receiver": "firewatch", "groupKey": f"{{}}:{{alertname=\"Drill\"}}:{group or tag}",
            "groupLabels": {"alertname": "Drill"}, "commonLabels": {"alertname": "Drill"}, "commonAnnotations": {},
            "externalURL": "http://alertmanager.invalid", "alerts": alerts}
    return json.dumps(body).encode()


def post_alerts(port: int, body: bytes) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/webhooks/alertmanager", content=body, timeout=30,
                      headers={"Content-Type": "application/json", "Authorization": f"Bearer {WEBHOOK_TOKEN}"})


def page_dms(fake) -> Counter:
    """(page id, pass, step) -> how many DMs Slack received for that step."""
    counts: Counter = Counter()
    for call in fake.calls_to("chat.postMessage"):
        if not str(call.params.get("channel", "")).startswith("D") or call.params.get("thread_ts"):
            continue
        blocks = call.params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        for block in blocks:
            parsed = parse_page_action_block_id(block.get("block_id"))
            if parsed:
                page_id, position = parsed
                counts[(int(page_id), position.pass_number, position.step_index)] += 1
    return counts


def exhausted_notices(fake) -> Counter:
    """Page id -> "nobody acknowledged" messages in the drill channel."""
    counts: Counter = Counter()
    for call in fake.calls_to("chat.postMessage"):
        body = call.params.get("text") or ""
        if call.params.get("channel") == DRILL_CHANNEL and "paging has stopped" in body:
            for page_id in page_ids_in(body):
                counts[page_id] += 1
    return counts


def escalation_notices(fake) -> Counter:
    """Page id -> "escalated" messages in the drill channel (one per step after the first)."""
    counts: Counter = Counter()
    for call in fake.calls_to("chat.postMessage"):
        body = call.params.get("text") or ""
        if call.params.get("channel") == DRILL_CHANNEL and "Nobody acknowledged in time; escalated" in body:
            for page_id in page_ids_in(body):
                counts[page_id] += 1
    return counts


def page_ids_in(body: str) -> list[int]:
    import re

    return [int(m) for m in re.findall(r"[Pp]age `(\d+)`", body)][:1]


def expected_steps(page_ids) -> set[tuple[int, int, int]]:
    return {(p, n, s) for p in page_ids for n in range(1, PASSES + 1) for s in range(len(STEP_USERS))}


class Cluster:
    """Fake Slack plus `firewatch serve` replicas sharing `database_url`."""

    def __init__(self, database_url: str, workdir: Path):
        self.database_url = database_url
        self.workdir = Path(workdir)
        self.slack = FakeSlackServer().start()
        self.fake = self.slack.fake
        for uid in (*STEP_USERS, REQUESTER):
            self.fake.add_user(uid, uid.lower())
        self.fake.add_channel(DRILL_CHANNEL, "drill")
        self.fake.add_channel("C0ANNOUNCE", "incidents")
        config = self.workdir / "firewatch.yaml"
        config.write_text(yaml.safe_dump(drill_config()))
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "FIREWATCH_", "OPENAI_", "PAGERDUTY_", "GITHUB_TOKEN"))}
        self.env = {**base, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                    "FIREWATCH_SLACK_API_URL": self.slack.api_url, "FIREWATCH_DATABASE_URL": database_url,
                    "FIREWATCH_CONFIG": str(config), "FIREWATCH_WEBHOOK_TOKEN": WEBHOOK_TOKEN}
        self.engine = make_engine(database_url)
        self.replicas: list[tuple[subprocess.Popen, int]] = []

    def start_replica(self) -> tuple[subprocess.Popen, int]:
        port = free_port()
        log = self.workdir / f"replica-{len(self.replicas)}.log"
        proc = start_server(self.env, port, self.workdir, log_path=log)
        self.replicas.append((proc, port))
        return proc, port

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.workdir.glob("replica-*.log")))

    def leader_pid(self) -> int | None:
        """The pid recorded by the current epoch's holder (`host:pid`)."""
        with self.engine.connect() as conn:
            holder = conn.execute(text("SELECT holder FROM scheduler_leadership WHERE id = 1")).scalar()
        return int(holder.rsplit(":", 1)[1]) if holder else None

    def epoch(self) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT epoch FROM scheduler_leadership WHERE id = 1")).scalar()

    def wait_for(self, predicate, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if predicate():
                    return
            except Exception:  # noqa: BLE001 - the database may be on its way back
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not reached within {timeout} s\n{self.logs()}")
            time.sleep(0.05)

    def lock_holders(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                                         "AND classid = 0 AND objid = :k"), {"k": LEADER_LOCK_KEY}).scalar())

    def wait_leader(self, pid: int, timeout: float = 30) -> float:
        """Seconds until `pid` holds the current epoch."""
        start = time.monotonic()
        while True:
            try:
                if self.leader_pid() == pid:
                    return time.monotonic() - start
            except Exception:  # noqa: BLE001 - the database may be on its way back
                pass
            if time.monotonic() - start > timeout:
                raise AssertionError(f"pid {pid} did not become the leader within {timeout} s\n{self.logs()}")
            time.sleep(0.02)

    def pages(self) -> list[tuple[int, str, bool, bool]]:
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, state, exhausted, step_notified FROM pages ORDER BY id")).all()
        return [(r[0], r[1], bool(r[2]), bool(r[3])) for r in rows]

    def wait_pages_done(self, timeout: float) -> list[int]:
        """Wait until every page ran through its whole policy; returns the ids of pages that did not (stuck)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                pages = self.pages()
                stuck = [p for p, _state, exhausted, notified in pages if not (exhausted and notified)]
            except Exception:  # noqa: BLE001
                stuck = None
            if stuck == [] and len(pages) == PAGES:
                return []
            if time.monotonic() > deadline:
                return stuck if stuck is not None else [-1]
            time.sleep(0.2)

    def fire(self, port: int, tag: str = "x") -> None:
        # One notification per alert group, as Alertmanager sends them: PAGES groups give PAGES pages.
        for i in range(PAGES):
            response = post_alerts(port, alert_payload(1, f"{tag}-{i:02d}", group=f"{tag}-{i:02d}"))
            assert response.status_code in (200, 202), response.text
        self.fake.wait_for(lambda f: len({k[0] for k in page_dms(f)}) >= PAGES, timeout=60)

    def tally(self, fault: str, takeover: float | None, stuck: list[int]) -> Result:
        page_ids = [p[0] for p in self.pages()]
        counts = page_dms(self.fake)
        expected = expected_steps(page_ids)
        delivered = len(expected & set(counts))
        duplicates = sum(n - 1 for k, n in counts.items() if n > 1) + len(set(counts) - expected)
        return Result(fault=fault, takeover_s=takeover, due=len(expected), delivered=delivered,
                      duplicates=duplicates, lost=len(expected) - delivered, stuck=len(stuck),
                      exhausted_notices=exhausted_notices(self.fake),
                      escalation_notices=escalation_notices(self.fake),
                      duplicate_steps=sorted(k for k, n in counts.items() if n > 1))

    def close(self) -> None:
        for proc, _port in self.replicas:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _port in self.replicas:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.engine.dispose()
        self.slack.stop()


def run_leader_failover(database_url: str, workdir: Path, sig: signal.Signals) -> Result:
    """Two replicas, 20 escalating pages, the leader gets `sig` mid-escalation."""
    cluster = Cluster(database_url, workdir)
    try:
        leader, _ = cluster.start_replica()
        cluster.wait_leader(leader.pid)
        follower, follower_port = cluster.start_replica()
        cluster.fire(follower_port)
        # Mid-escalation: some second steps went out, most are pending.
        cluster.fake.wait_for(lambda f: len(page_dms(f)) >= PAGES + 5, timeout=60)
        sent_at = time.monotonic()
        leader.send_signal(sig)
        cluster.wait_leader(follower.pid, timeout=30)
        takeover = time.monotonic() - sent_at
        leader.wait(20)
        stuck = cluster.wait_pages_done(timeout=PASSES * len(STEP_USERS) * STEP_SECONDS + 40)
        result = cluster.tally(f"{sig.name} the leader", takeover, stuck)
        result.notes.append(f"leader exit code {leader.returncode}")
        return result
    finally:
        cluster.close()


# -- a PostgreSQL server of our own, to stop and start -------------------------------------------------------------

def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL's {name} was not found (install the postgresql server package)")
    return path


class ThrowawayPostgres:
    """initdb + pg_ctl on a spare loopback port in a temporary directory (run as `postgres` when we are root)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="fw-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync")
        self.start()
        with self.admin() as conn:
            conn.execute(text("CREATE DATABASE firewatch"))
        upgrade(self.url)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/firewatch"

    def admin(self):
        from sqlalchemy import create_engine

        engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
                               isolation_level="AUTOCOMMIT")

        class _Conn:
            def __enter__(self_inner):
                self_inner.conn = engine.connect()
                return self_inner.conn

            def __exit__(self_inner, *exc):
                self_inner.conn.close()
                engine.dispose()

        return _Conn()

    def _run(self, *cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self.as_postgres else list(cmd)
        done = subprocess.run(full, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "server.log"),
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        except Exception:  # noqa: BLE001 - already stopped
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class OutageResult(Result):
    webhook_status: int | None = None
    webhook_retry_after: str | None = None
    command_reply: str = ""
    lock_holders: int = 0
    leader_alive: bool = False
    takeover_after_outage_s: float | None = None
    reelected_s: float | None = None  # from PostgreSQL accepting connections again to a leader with a new epoch


OUTAGE_SECONDS = 20


def run_database_outage(pg: ThrowawayPostgres, workdir: Path) -> OutageResult:
    """Two replicas, 20 escalating pages, PostgreSQL stopped for 20 s and started again."""
    cluster = Cluster(pg.url, workdir)
    try:
        first, first_port = cluster.start_replica()
        cluster.wait_leader(first.pid)
        second, second_port = cluster.start_replica()
        cluster.fire(second_port)
        epoch_before = cluster.epoch()
        pg.stop()
        stopped_at = time.monotonic()
        # During the outage: what an alert source and a person get.
        webhook = post_alerts(first_port, alert_payload(1, "during-outage"))
        sender = SlackSender(f"http://127.0.0.1:{second_port}", SIGNING_SECRET,
                             response_url=cluster.slack.response_url("outage"))
        command = sender.command("/page", f"<@{STEP_USERS[0]}> during the outage", user=REQUESTER)
        reply = ""
        try:
            reply = command.json().get("text") or ""
        except ValueError:
            pass
        if "database" not in reply:
            try:
                got = cluster.fake.wait_for(lambda f: [r for r in f.responses if "database" in (r.get("text") or "")],
                                            timeout=5)
                reply = got[0]["text"]
            except AssertionError:
                pass
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped_at)))  # the outage itself, not an assert
        pg.start()
        restarted_at = time.monotonic()
        cluster.wait_for(lambda: (cluster.epoch() or 0) > epoch_before, timeout=60)
        reelected_s = time.monotonic() - restarted_at
        stuck = cluster.wait_pages_done(timeout=PASSES * len(STEP_USERS) * STEP_SECONDS + 60)
        base = cluster.tally(f"PostgreSQL down {OUTAGE_SECONDS} s", None, stuck)
        result = OutageResult(**{k: getattr(base, k) for k in Result.__dataclass_fields__})
        result.webhook_status = webhook.status_code
        result.webhook_retry_after = webhook.headers.get("Retry-After")
        result.command_reply = reply
        result.reelected_s = reelected_s
        result.lock_holders = cluster.lock_holders()
        leader = cluster.leader_pid()
        result.leader_alive = leader in (first.pid, second.pid)
        # The other replica still campaigns after the outage: kill the leader, it takes over.
        survivor = second if leader == first.pid else first
        victim = first if survivor is second else second
        killed_at = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        cluster.wait_leader(survivor.pid, timeout=30)
        result.takeover_after_outage_s = time.monotonic() - killed_at
        result.takeover_s = result.takeover_after_outage_s
        return result
    finally:
        cluster.close()
