"""`firewatch demo`: a whole incident, end to end, through the real HTTP endpoint against the local Slack
stand-in, on a fresh SQLite database in a temporary folder. Prints what people in Slack would see."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from bot.config import parse_config
from bot.devtools.fake_slack import FakeSlack, FakeSlackServer
from bot.devtools.loopback import JsonRequestHandler
from bot.devtools.signed_requests import SlackSender
from bot.devtools.transcript import Transcript
from bot.server import build_context, start_in_thread
from bot.settings import Settings
from storage.db import upgrade

SECRET = "demo-signing-secret"
RILEY, ALICE, BOB, CARLOS, LEE = "U0RILEY", "U0ALICE", "U0BOB", "U0CARLOS", "U0LEE"
ANNOUNCE, PAYMENTS, ONCALL_CHANNEL, ALERTS = "C0INCIDENTS", "C0PAYMENTS", "C0PAYONCALL", "C0ALERTS"
WEBHOOK_TOKEN = "demo-webhook-token"
GITHUB_TOKEN = "demo-github-token"
FOLLOWUP_REPO = "acme/checkout"

DEMO_CONFIG = {
    "admins": [ALICE],
    "incidents": {"announcements_channel": ANNOUNCE, "channel_prefix": "inc", "update_reminder": {"sev2": "30m"}},
    "rotations": [{
        "name": "payments", "timezone": "Europe/London",
        "shift": {"length": "1d", "handoff_time": "10:00"},
        "channel": ONCALL_CHANNEL, "usergroup": "S0PAYONCALL",
        "members": [
            {"user": ALICE, "name": "Alice", "timezone": "Europe/London", "country": "GB", "seniority": "senior"},
            {"user": BOB, "name": "Bob", "timezone": "America/New_York", "country": "US"},
            {"user": CARLOS, "name": "Carlos", "timezone": "Europe/Madrid", "country": "ES"},
        ],
        "rules": {"min_rest_shifts": 1},
    }],
    "escalation_policies": [{
        "name": "payments", "channel": PAYMENTS, "repeat": 1,
        "steps": [{"notify": "rotation:payments", "timeout": "2s"}, {"notify": f"user:{LEE}", "timeout": "10m"}],
    }],
    "alert_routes": [{"match": {"team": "payments"}, "policy": "payments"}],
    "webhooks": {"fallback_channel": ALERTS},
}

FIRING_ALERT = {
    "version": "4", "status": "firing", "receiver": "firewatch", "groupKey": '{}:{alertname="CheckoutErrorRate"}',
    "groupLabels": {"alertname": "CheckoutErrorRate"}, "commonLabels": {"team": "payments"},
    "commonAnnotations": {}, "externalURL": "http://alertmanager.local",
    "alerts": [{
        "status": "firing", "fingerprint": "c0ffee0ddba11000",
        "labels": {"alertname": "CheckoutErrorRate", "team": "payments", "severity": "critical",
                   "service": "checkout"},
        "annotations": {"summary": "Checkout 5xx ratio above 5% for 5 minutes",
                        "runbook_url": "https://runbooks.example.com/checkout-5xx"},
        "startsAt": "set from the demo clock", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.local/graph?g0.expr=checkout_5xx_ratio",
    }],
}


def _iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hhmm(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%H:%M UTC")


class GitHubStandIn:
    """A loopback GitHub Issues API for the demo: `POST /repos/{owner}/{repo}/issues` -> 201 `{number, html_url}`,
    `GET /repos/{owner}/{repo}/issues/{n}` -> `{number, state}`; requests without a bearer token get 401."""

    def __init__(self) -> None:
        self.issues: list[dict] = []
        stand_in = self

        class Handler(JsonRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                parts = self.path.strip("/").split("/")
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    return self.reply_json(401, {"message": "Requires authentication"})
                if len(parts) != 4 or parts[0] != "repos" or parts[3] != "issues":
                    return self.reply_json(404, {"message": "Not Found"})
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if not str(body.get("title") or "").strip():
                    return self.reply_json(422, {"message": "Validation Failed"})
                number = len(stand_in.issues) + 1
                issue = {"number": number, "title": body["title"], "state": "open",
                         "html_url": f"https://github.com/{parts[1]}/{parts[2]}/issues/{number}"}
                stand_in.issues.append(issue)
                self.reply_json(201, issue)

            def do_GET(self) -> None:  # noqa: N802
                parts = self.path.split("?")[0].strip("/").split("/")
                found = [i for i in stand_in.issues if len(parts) == 5 and str(i["number"]) == parts[4]]
                self.reply_json(200, found[0]) if found else self.reply_json(404, {"message": "Not Found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Demo:
    """Drives the scenario step by step and prints the transcript."""

    def __init__(self, workdir: Path, out: Callable[[str], None] = print):
        self.workdir = workdir
        self.out = out
        self.started = datetime.now(timezone.utc)  # the demo clock: alert times and texts are told from it
        self.github = GitHubStandIn()
        self.fake_server = FakeSlackServer().start()
        self.fake: FakeSlack = self.fake_server.fake
        for uid, name, tz in ((RILEY, "Riley", "Europe/London"), (ALICE, "Alice", "Europe/London"),
                              (BOB, "Bob", "America/New_York"), (CARLOS, "Carlos", "Europe/Madrid"),
                              (LEE, "Lee", "Europe/London")):
            self.fake.add_user(uid, name, tz=tz)
        self.fake.add_channel(ANNOUNCE, "incidents")
        self.fake.add_channel(PAYMENTS, "payments")
        self.fake.add_channel(ONCALL_CHANNEL, "payments-oncall")
        self.fake.add_channel(ALERTS, "alerts")
        self.fake.add_channel("C0GENERAL", "general", members=["UFIREWATCH", RILEY, ALICE, BOB, CARLOS])
        db_url = f"sqlite:///{workdir / 'firewatch.db'}"
        upgrade(db_url)
        from bot.devtools.localrepo import init_bare_repository

        self.postmortem_repo = init_bare_repository(workdir / "postmortems.git")
        config = {**DEMO_CONFIG, "postmortems": {
            "repo": str(self.postmortem_repo), "branch": "main", "mode": "push",
            "path": "postmortems/{year}/{number:04d}-{slug}.md"},
            "followups": {"default_tracker": f"github:{FOLLOWUP_REPO}", "github_api_url": self.github.url}}
        self.settings = Settings(SLACK_BOT_TOKEN="xoxb-demo", SLACK_SIGNING_SECRET=SECRET,
                                 FIREWATCH_SLACK_API_URL=self.fake_server.api_url, FIREWATCH_DATABASE_URL=db_url)
        self.ctx = build_context(self.settings, parse_config(config))
        self.running = start_in_thread(self.ctx)
        self.sender = SlackSender(self.running.url, SECRET, response_url=self.fake_server.response_url("demo"))
        self.transcript = Transcript(self.fake)

    def close(self) -> None:
        self.sender.close()
        self.running.stop()
        self.fake_server.stop()
        self.github.stop()

    def section(self, title: str) -> None:
        self.out("")
        self.out(f"--- {title} " + "-" * max(3, 70 - len(title)))

    def say(self, who: str, what: str) -> None:
        self.out(f"> {self.fake.users[who]['real_name']} {what}")

    def settle(self, until: Callable[[FakeSlack], object], timeout: float = 15.0, show: bool = True) -> None:
        """Wait for the expected effect, then for the bot to go quiet, and print what Slack showed (`show`)."""
        self.fake.wait_for(until, timeout)
        last = -1
        while True:
            with self.fake.lock:
                n = len(self.fake.calls) + len(self.fake.responses)
            if n == last:
                break
            last = n
            time.sleep(0.3)
        for line in self.transcript.new_lines():
            if show:
                self.out(line)

    def command(self, who: str, text: str, channel: str = "C0GENERAL", command: str = "/incident") -> None:
        # Shown as typed in Slack (`@Alice`); Slack sends the mention to the bot as `<@U…>`.
        self.say(who, f"types `{command} {self.transcript.text(text)}` in {self.transcript._channel(channel)}")
        resp = self.sender.command(command, text, user=who, channel=channel)
        if resp.status_code != 200:
            raise RuntimeError(f"{command} {text}: HTTP {resp.status_code} {resp.text}")
        if resp.content and resp.headers.get("content-type", "").startswith("application/json"):
            body = resp.json()
            if body.get("text"):
                self.out("  (only visible to you):")
                for line in self.transcript.text(body["text"]).splitlines():
                    self.out(f"    | {line}")

    # -- the scenario -----------------------------------------------------------------------------------------
    def run(self) -> str:
        fake = self.fake
        self.section("1. Riley declares an incident")
        self.command(RILEY, "declare sev2 Checkout API returning 500s")
        self.settle(lambda f: f.responses and f.calls_to("pins.add"))
        channel = fake.calls_to("conversations.create")[0].response["channel"]["id"]

        self.section("2. Alice takes command")
        self.command(ALICE, f"role commander <@{ALICE}>", channel)
        self.settle(lambda f: "commander: <@U0ALICE>" in f.channels[channel]["topic"])

        self.section("3. Alice posts an update")
        deploy = _hhmm(self.started - timedelta(minutes=6))
        self.command(ALICE, f"update Errors started with the {deploy} deploy of checkout v2.31; rolling back", channel)
        self.settle(lambda f: any(c.params.get("thread_ts") for c in f.calls_to("chat.postMessage")))

        self.section("4. Bob pins a message to the timeline")
        note = f"Rollback done at {_hhmm(datetime.now(timezone.utc))}; 5xx rate back to 0.1%"
        ts = fake.post_user_message(channel, BOB, note)
        self.say(BOB, f"writes in the channel: “{note}” and reacts with :pushpin:")
        self.sender.event({"type": "reaction_added", "user": BOB, "reaction": "pushpin",
                           "item": {"type": "message", "channel": channel, "ts": ts}, "item_user": BOB,
                           "event_ts": ts})
        self.settle(lambda f: f.calls_to("chat.getPermalink"))
        self.command(BOB, "timeline", channel)
        self.settle(lambda f: any("Timeline" in (r.get("text") or "") for r in f.responses))

        self.section("5. Alice resolves the incident")
        self.command(ALICE, "resolve Bad config in checkout v2.31, rolled back", channel)
        self.settle(lambda f: "resolved" in f.channels[channel]["topic"])
        self.paging()
        self.rotation()
        from bot.devtools.demo_steps import run_assist_demo

        second = run_assist_demo(self, first_section=12)
        self.follow_through(channel, second)
        self.postmortem(channel)
        return channel

    def follow_through(self, first: str, second: str) -> None:
        """After the incident: a catch-up, an update nudge, a follow-up that becomes a GitHub issue, a reopen."""
        from bot.followups.service import nudge_updates

        self.section("16. Carlos joins INC-2 late and asks for a catch-up")
        before = len(self.fake.responses)
        self.command(CARLOS, "catchup", second)
        self.settle(lambda f: len(f.responses) > before)

        self.section("17. Nobody has posted an update on INC-2 for 30 minutes: the nudge")
        self.out("> the scheduler's update-nudge job runs (as if 31 minutes had passed; SEV2 reminds after 30m)")
        nudged = nudge_updates(self.ctx, now=datetime.now(timezone.utc) + timedelta(minutes=31))
        self.settle(lambda f: nudged and any(c.params.get("channel") == second and "update" in (c.params.get("text") or "")
                                             for c in f.calls_to("chat.postMessage")))

        self.section("18. Alice records a follow-up on INC-1: it becomes a GitHub issue")
        self.command(ALICE, f"followup prevent Add a canary stage for checkout config changes <@{BOB}>", first)
        self.settle(lambda f: self.github.issues and any("Follow-up" in (c.params.get("text") or "")
                                                         for c in f.calls_to("chat.postMessage")))
        for issue in self.github.issues:
            self.out(f"  GitHub (loopback stand-in) got POST /repos/{FOLLOWUP_REPO}/issues → 201: "
                     f"#{issue['number']} “{issue['title']}”")

        self.section("19. The errors come back: Riley reopens INC-1")
        self.command(RILEY, "reopen 5xx errors are back on checkout", first)
        self.settle(lambda f: "investigating" in f.channels[first]["topic"])
        self.command(ALICE, "resolve Config validation added; errors gone", first)
        self.settle(lambda f: "resolved" in f.channels[first]["topic"], show=False)
        self.out("  (Alice resolves INC-1 again; the channel, summary and announcement say so as in step 5)")

    def rotation(self) -> None:
        """The payments rotation: who is on, the schedule, a note, a handoff, and the fairness ledger."""
        from bot.rotations.handoff import run_next_handoff

        self.section("9. The payments rotation")
        before = len(self.fake.responses)
        self.command(BOB, "who payments", command="/oncall")
        self.settle(lambda f: len(f.responses) > before)
        before = len(self.fake.responses)
        self.command(BOB, "schedule payments 1", command="/oncall")
        self.settle(lambda f: len(f.responses) > before)
        before = len(self.fake.responses)
        self.command(self._oncall_now(), "note Checkout v2.31 rolled back; v2.32 ships Monday", command="/oncall")
        self.settle(lambda f: len(f.responses) > before)

        self.section("10. Shift change: the handoff (run now, as if the next 10:00 boundary had come)")
        self.out("> the scheduler's handoff job fires for the payments rotation")
        run_next_handoff(self.ctx, "payments")
        self.settle(lambda f: f.calls_to("usergroups.users.update"))

        self.section("11. How fair is the rotation?")
        before = len(self.fake.responses)
        self.command(CARLOS, "fairness payments", command="/oncall")
        self.settle(lambda f: len(f.responses) > before)

    def _oncall_now(self) -> str:
        from bot.rotations import service as oncall

        return oncall.on_call(self.ctx, "payments") or ALICE

    def postmortem(self, channel: str) -> None:
        """Draft the postmortem from the incident's real timeline, lint it, publish it to a local git repo."""
        import subprocess

        from bot.incidents import store

        self.section("20. Alice drafts and publishes the postmortem of INC-1")
        before = len(self.fake.responses)
        self.command(ALICE, "postmortem", channel)
        self.settle(lambda f: len(f.responses) > before, timeout=30)
        self.command(ALICE, "postmortem publish", channel)
        with self.ctx.session() as s:
            incident = store.get_by_channel(s, channel)
        from sqlmodel import select

        from storage.models import PostmortemRecord

        def published(_f):
            with self.ctx.session() as s:
                rec = s.exec(select(PostmortemRecord).where(PostmortemRecord.incident_id == incident.id)).first()
                return rec if rec and (rec.commit_sha or rec.publish_error) else None

        self.settle(published, timeout=30)
        record = published(None)
        if record.publish_error:
            raise RuntimeError(f"postmortem publish failed: {record.publish_error}")
        head = subprocess.run(["git", "--git-dir", str(self.postmortem_repo), "log", "-1", "--format=%h %s",
                               record.branch], capture_output=True, text=True, check=True).stdout.strip()
        self.out("")
        self.out(f"Postmortem published: {self.postmortem_repo} branch {record.branch}, file {record.path}")
        self.out(f"  commit {head}")
        self.out(f"  blameless linter findings: {len(record.findings)}")
        document = subprocess.run(["git", "--git-dir", str(self.postmortem_repo), "show",
                                   f"{record.branch}:{record.path}"], capture_output=True, text=True, check=True).stdout
        lines = document.splitlines()
        for heading, count in (("## Summary", 8), ("## Timeline", 12), ("## Action items", 6)):
            if heading in lines:
                at = lines.index(heading)
                self.out(f"  from the document, {heading[3:]}:")
                for line in lines[at + 1:at + 1 + count]:
                    if line.startswith("## "):
                        break
                    if line.strip():
                        self.out(f"    {line}")

    def paging(self) -> None:
        """An alert pages the on-call; nobody answers within the (short) timeout; the lead acknowledges."""

        import httpx

        from bot.rotations import service as oncall

        fake = self.fake
        oncall_user = oncall.on_call(self.ctx, "payments")
        firing = json.loads(json.dumps(FIRING_ALERT))
        # The alert started firing two minutes before Riley declared the incident.
        firing["alerts"][0]["startsAt"] = _iso(self.started - timedelta(minutes=2))
        self.section("6. Alertmanager fires; the on-call is paged")
        self.out(f"> Alertmanager posts a firing alert to /webhooks/alertmanager "
                 f"(on call for payments: {self.transcript._name(oncall_user)})")
        body = json.dumps(firing).encode()
        headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}
        r = httpx.post(self.running.url + "/webhooks/alertmanager", content=body, headers=headers, timeout=10)
        self.out(f"  HTTP {r.status_code} {r.text}")
        self.settle(lambda f: f.calls_to("conversations.open"))
        r = httpx.post(self.running.url + "/webhooks/alertmanager", content=body, headers=headers, timeout=10)
        self.out(f"> Alertmanager re-sends the same alert: HTTP {r.status_code} {r.text} (no second page)")

        self.section("7. Nobody acknowledges within 2 s; the page escalates to Lee")
        self.settle(lambda f: any(c.params["users"] == LEE for c in f.calls_to("conversations.open")))
        dm = next(c for c in fake.calls_to("chat.postMessage")
                  if c.params["channel"] == fake.calls_to("conversations.open")[-1].response["channel"]["id"])
        self.say(LEE, "presses [Acknowledge]")
        self.sender.block_action("page_ack", "1", user=LEE, channel=dm.params["channel"], message_ts=dm.response["ts"])
        self.settle(lambda f: any("acknowledged page" in (c.params.get("text") or "")
                                  for c in f.calls_to("chat.postMessage")))

        self.section("8. The alert resolves")
        resolved = json.loads(body)
        resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
        resolved["alerts"][0]["endsAt"] = _iso(datetime.now(timezone.utc))
        r = httpx.post(self.running.url + "/webhooks/alertmanager", content=json.dumps(resolved).encode(),
                       headers=headers, timeout=10)
        self.settle(lambda f: any("The alert resolved" in (c.params.get("text") or "")
                                  for c in f.calls_to("chat.postMessage")))


def run_demo(*, keep: bool = False, out: Callable[[str], None] = print) -> int:
    """Run the scenario; return the process exit code."""
    # The transcript is the output; library chatter (migrations, HTTP) stays out of it.
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    for handler in root.handlers:
        handler.setLevel(logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="firewatch-demo-"))
    previous = {name: os.environ.get(name) for name in ("FIREWATCH_WEBHOOK_TOKEN", "GITHUB_TOKEN")}
    os.environ["FIREWATCH_WEBHOOK_TOKEN"] = WEBHOOK_TOKEN
    os.environ["GITHUB_TOKEN"] = GITHUB_TOKEN  # sent only to the loopback GitHub stand-in
    demo = None
    try:
        out("Firewatch demo: a local Slack stand-in, a fresh SQLite database, signed requests to the real endpoint.")
        demo = Demo(workdir, out)
        demo.run()
        calls = len(demo.fake.calls)
        out("")
        out(f"Demo finished: {calls} Slack API calls, all against the local stand-in.")
        if keep:
            out(f"Database, postmortem repository and files kept in {workdir}")
        else:
            out("Run `firewatch demo --keep` to keep the database and the postmortem repository afterwards.")
        return 0
    except Exception as exc:  # noqa: BLE001 - the demo reports and exits non-zero
        out(f"DEMO FAILED: {exc.__class__.__name__}: {exc}")
        return 1
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if demo is not None:
            demo.close()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
