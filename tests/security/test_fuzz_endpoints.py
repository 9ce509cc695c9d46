"""Property-based hostile input against the real HTTP endpoints of one running Firewatch: signed slash-command
texts, interaction payloads, webhook bodies, and unsigned requests.

Properties: no 5xx, no traceback in any log, `/healthz` up throughout, and an unsigned request causes no Slack call
and no response_url post. Replies slower than Slack's 3 seconds are counted and reported by the last test (they
depend on the machine's load, so they are recorded rather than asserted); the counts are also written to
`fuzz-summary.json` in pytest's base temp directory.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import parse_config
from bot.devtools.fake_slack import TEAM_ID, FakeSlackServer
from bot.devtools.signed_requests import SlackSender
from bot.server import build_context, start_in_thread
from tests.conftest import ALICE, ANNOUNCE, BASE_CONFIG, BOB, REPORTER, SIGNING_SECRET, make_settings
from tests.security import WEBHOOK_TOKEN, alertmanager_payload, slack_activity

EXAMPLES = int(os.environ.get("FIREWATCH_FUZZ_EXAMPLES", "150"))
SLACK_DEADLINE_SECONDS = 3.0
# CI runs a fixed sequence; FIREWATCH_FUZZ_RANDOM=1 explores new inputs each run.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not os.environ.get("FIREWATCH_FUZZ_RANDOM"),
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@dataclass
class Tally:
    tried: int = 0
    server_errors: list[tuple[str, int, str]] = field(default_factory=list)
    slow: list[tuple[str, float]] = field(default_factory=list)
    slowest: float = 0.0
    health_failures: int = 0
    by_property: dict[str, int] = field(default_factory=dict)


class TracebackCounter(logging.Handler):
    """Every log record carrying an exception, from any logger (uvicorn's included: it does not propagate)."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.exc_info or "Traceback (most recent call last)" in record.getMessage():
            self.records.append(record)


@dataclass
class Target:
    url: str
    sender: SlackSender
    fake_server: FakeSlackServer
    tally: Tally
    tracebacks: TracebackCounter
    incident_channel: str | None = None

    def timed(self, name: str, send) -> httpx.Response:
        start = time.perf_counter()
        r = send()
        elapsed = time.perf_counter() - start
        t = self.tally
        t.tried += 1
        t.by_property[name] = t.by_property.get(name, 0) + 1
        t.slowest = max(t.slowest, elapsed)
        if elapsed > SLACK_DEADLINE_SECONDS:
            t.slow.append((name, elapsed))
        if r.status_code >= 500:
            t.server_errors.append((name, r.status_code, r.text[:200]))
        if t.tried % 25 == 0 and httpx.get(self.url + "/healthz", timeout=10).status_code != 200:
            t.health_failures += 1
        return r


@pytest.fixture(scope="module")
def target(databases, tmp_path_factory):
    """One server for the whole module (hypothesis runs many examples against it)."""
    # Like tests/conftest.py's per-test clean-up, for a module-wide server; restored afterwards.
    saved = {n: os.environ.pop(n) for n in list(os.environ)
             if n.startswith(("SLACK_", "FIREWATCH_SLACK", "OPENAI_", "FIREWATCH_LLM", "PAGERDUTY_", "GITHUB_TOKEN",
                              "FIREWATCH_DATABASE_URL", "FIREWATCH_CONFIG", "FIREWATCH_WEBHOOK_TOKEN"))}
    fake_server = FakeSlackServer().start()
    for uid, name in ((REPORTER, "Riley"), (ALICE, "Alice"), (BOB, "Bob")):
        fake_server.fake.add_user(uid, name)
    fake_server.fake.add_channel(ANNOUNCE, "incidents")
    fake_server.fake.add_channel("C0GENERAL", "general", members=["UFIREWATCH", REPORTER, ALICE, BOB])
    counter = TracebackCounter()
    watched = [logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error")]
    for logger in watched:
        logger.addHandler(counter)
    ctx = build_context(make_settings(databases.new(), fake_server.api_url), parse_config(BASE_CONFIG))
    running = start_in_thread(ctx)
    sender = SlackSender(running.url, SIGNING_SECRET, response_url=fake_server.response_url("fuzz"))
    tgt = Target(url=running.url, sender=sender, fake_server=fake_server, tally=Tally(), tracebacks=counter)
    yield tgt
    summary = {"inputs_tried": tgt.tally.tried, "by_property": tgt.tally.by_property,
               "http_5xx": len(tgt.tally.server_errors), "tracebacks": len(counter.records),
               "replies_over_3s": len(tgt.tally.slow), "slowest_reply_s": round(tgt.tally.slowest, 3),
               "healthz_failures": tgt.tally.health_failures}
    (tmp_path_factory.getbasetemp() / "fuzz-summary.json").write_text(json.dumps(summary, indent=2))
    print("\nfuzz summary:", json.dumps(summary))
    sender.close()
    running.stop()
    fake_server.stop()
    for logger in watched:
        logger.removeHandler(counter)
    os.environ.update(saved)


@pytest.fixture
def webhook_token(monkeypatch):
    monkeypatch.setenv("FIREWATCH_WEBHOOK_TOKEN", WEBHOOK_TOKEN)


# --- strategies ---------------------------------------------------------------------------------------------------

# Text as people (and attackers) type it: any printable or control character except lone surrogates, with the
# specific troublemakers from issue 10 mixed in often.
TROUBLE = ["payload", "payload=", "²", "١٢٣", str(2**31), str(2**63), "-1", "0", "9999-12-31", "0000-00-00",
           "<!channel>", "<@U0NOBODY>", "<@U0ALICE|alice>", "<#C0GENERAL|general>", "\x00", "\r\n", "%00", "&", "=",
           "sev1", "sev2", "sev99", "2099-01-01", "24:61", "1w", "99999d", "'; DROP TABLE incidents; --", "🔥" * 50]
chars = st.characters(blacklist_categories=("Cs",))
# What an HTTP client can put in a header at all (no control characters); non-ASCII is sent as UTF-8 bytes.
header_chars = st.characters(blacklist_categories=("Cs", "Cc"))
words = st.one_of(st.sampled_from(TROUBLE), st.text(chars, min_size=1, max_size=12))
free_text = st.lists(words, max_size=12).map(" ".join) | st.text(chars, max_size=300)
SUBCOMMANDS = {
    "/incident": ["declare", "declare sev2", "status", "sev", "role commander", "role comms", "update", "timeline",
                  "followup", "followup prevent", "resolve", "list", "help", "repair", "triage", "rca",
                  "postmortem", ""],
    "/oncall": ["who", "schedule", "fairness", "explain", "swap", "override", "away", "note", "export",
                "export revoke", "help", ""],
    "/page": ["payments", "<@U0BOB>", "<@U0NOBODY>", ""],
}
command_inputs = st.sampled_from(sorted(SUBCOMMANDS)).flatmap(
    lambda cmd: st.tuples(st.just(cmd), st.sampled_from(SUBCOMMANDS[cmd]), free_text, st.booleans()))

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(chars, max_size=40),
                         st.sampled_from(TROUBLE))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(chars, max_size=12), inner, max_size=4), max_leaves=20)
ACTION_IDS = ["page_ack", "page_escalate", "page_link_1", "oncall_swap_approve", "oncall_swap_decline",
              "assist_accept", "assist_dismiss"]
interaction_payloads = st.one_of(
    st.fixed_dictionaries({
        "type": st.just("block_actions"),
        "user": st.fixed_dictionaries({"id": st.sampled_from([REPORTER, ALICE, "U0NOBODY", ""]) | st.text(max_size=5)}),
        "actions": st.lists(st.fixed_dictionaries({
            "action_id": st.sampled_from(ACTION_IDS) | st.text(max_size=10),
            "block_id": st.text(max_size=10),
            "value": st.one_of(st.text(chars, max_size=40), st.sampled_from(TROUBLE),
                               json_values.map(json.dumps)),
            "type": st.just("button")}), min_size=1, max_size=2),
        "channel": st.fixed_dictionaries({"id": st.sampled_from(["C0GENERAL", "D0NOPE", ""])}),
        "container": st.fixed_dictionaries({"type": st.just("message"), "message_ts": st.text(max_size=10)}),
    }),
    st.fixed_dictionaries({
        "type": st.just("view_submission"),
        "user": st.fixed_dictionaries({"id": st.sampled_from([REPORTER, ALICE, "U0NOBODY"])}),
        "view": st.fixed_dictionaries({
            "callback_id": st.sampled_from(["incident_declare"]) | st.text(max_size=10),
            "private_metadata": st.text(chars, max_size=40),
            "state": st.fixed_dictionaries({"values": st.dictionaries(
                st.sampled_from(["title", "severity", "description", "private"]) | st.text(max_size=5),
                st.dictionaries(st.sampled_from(["title", "severity", "description", "private"]),
                                json_values, max_size=2), max_size=4)})}),
    }),
    st.dictionaries(st.sampled_from(["type", "user", "actions", "view", "channel", "callback_id", "trigger_id"]),
                    json_values, max_size=6),
)


def mutated_alert(base: dict):
    """The real Alertmanager sample with one field replaced by something hostile."""
    paths = [("status",), ("receiver",), ("groupKey",), ("truncatedAlerts",), ("alerts",), ("groupLabels",),
             ("alerts", 0, "status"), ("alerts", 0, "labels"), ("alerts", 0, "labels", "alertname"),
             ("alerts", 0, "labels", "severity"), ("alerts", 0, "annotations"), ("alerts", 0, "startsAt"),
             ("alerts", 0, "endsAt"), ("alerts", 0, "fingerprint"), ("alerts", 0, "generatorURL")]

    def apply(args):
        path, value = args
        doc = json.loads(json.dumps(base))
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return doc

    return st.tuples(st.sampled_from(paths), json_values).map(apply)


# --- properties ---------------------------------------------------------------------------------------------------


def test_unsigned_requests_never_act(target):
    fake = target.fake_server.fake

    @FUZZ
    @given(body=st.binary(max_size=2000) | free_text.map(str.encode),
           timestamp=st.one_of(st.none(), st.text(header_chars, max_size=20), st.integers(-2**40, 2**40).map(str)),
           signature=st.one_of(st.none(), st.text(header_chars, max_size=80), st.binary(min_size=32, max_size=32).map(
               lambda b: "v0=" + b.hex())),
           content_type=st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain"]))
    def unsigned(body, timestamp, signature, content_type):
        headers = {"Content-Type": content_type}
        if timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = timestamp.encode("utf-8")
        if signature is not None:
            headers["X-Slack-Signature"] = signature.encode("utf-8")
        before = slack_activity(fake)
        r = target.timed("unsigned", lambda: target.sender.http.post(target.sender.events_url, content=body,
                                                                        headers=headers))
        assert r.status_code in (400, 401, 413), r.text
        assert slack_activity(fake) == before

    unsigned()
    assert target.tally.server_errors == []


def test_signed_command_texts(target):
    if target.incident_channel is None:
        before = len(target.fake_server.fake.calls_to("conversations.create"))
        target.sender.command("/incident", "declare sev2 Fuzz target incident", user=REPORTER)
        created = target.fake_server.fake.wait_for(lambda f: f.calls_to("conversations.create")[before:])
        target.incident_channel = created[0].response["channel"]["id"]

    @FUZZ
    @given(command_inputs, st.sampled_from([REPORTER, ALICE, "U0NOBODY"]))
    def command(args, user):
        cmd, sub, text, in_incident = args
        channel = target.incident_channel if in_incident else "C0GENERAL"
        r = target.timed("command", lambda: target.sender.command(cmd, f"{sub} {text}".strip(), user=user,
                                                                     channel=channel))
        assert r.status_code < 500, r.text
        if r.status_code == 200 and r.content:
            assert "Traceback" not in r.text

    command()
    assert target.tally.server_errors == []


def test_signed_interaction_payloads(target):
    @FUZZ
    @given(interaction_payloads)
    def interaction(payload):
        payload = {**payload, "response_url": target.sender.response_url, "trigger_id": "1.2.fuzz"}
        r = target.timed("interaction", lambda: target.sender.interaction(payload))
        assert r.status_code < 500, r.text

    interaction()
    assert target.tally.server_errors == []


def test_webhook_bodies(target, webhook_token):
    base = json.loads(alertmanager_payload())

    @FUZZ
    @given(path=st.sampled_from(["/webhooks/alertmanager", "/webhooks/grafana", "/webhooks/changes"]),
           body=st.one_of(json_values.map(lambda v: json.dumps(v).encode()), mutated_alert(base).map(
               lambda v: json.dumps(v).encode()), st.binary(max_size=500)))
    def webhook(path, body):
        r = target.timed("webhook", lambda: httpx.post(
            target.url + path, content=body, timeout=10,
            headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}))
        assert r.status_code < 500, r.text

    webhook()
    assert target.tally.server_errors == []


def test_summary_no_5xx_no_tracebacks_health_up(target):
    """Runs last: the suite-wide properties, with the counts for the closing note."""
    assert httpx.get(target.url + "/healthz", timeout=10).status_code == 200
    tally = target.tally
    assert tally.tried >= 4 * min(EXAMPLES, 10)
    assert tally.server_errors == []
    assert tally.health_failures == 0
    tracebacks = [f"{r.name}: {r.getMessage()}" for r in target.tracebacks.records]
    assert tracebacks == []
    if tally.slow:
        print(f"\n{len(tally.slow)} replies took over {SLACK_DEADLINE_SECONDS}s: {tally.slow[:10]}")
