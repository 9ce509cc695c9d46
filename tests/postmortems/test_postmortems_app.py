"""Postmortems wired into the running app: a real incident driven through signed Slack requests, drafted from the
database, stored, linted, and published to a real local bare git repository; plus the CLI against the database."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlmodel import select

from bot.postmortems.domain import facts as facts_module
from bot.cli.postmortem import postmortem
from bot.postmortems.domain.render import split_front_matter
from bot.devtools.localrepo import init_bare_repository
from storage.models import AuditLog, Incident, PostmortemRecord, TimelineEvent
from tests.conftest import ALICE, ANNOUNCE, BASE_CONFIG, BOB, REPORTER

PATH_PATTERN = "postmortems/{year}/{number:04d}-{slug}.md"


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd, capture_output=True, text=True, env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


@pytest.fixture
def bare_repo(tmp_path: Path) -> Path:
    """A bare repository whose main branch has one commit, made with plain git (independent of the code under test)."""
    bare = tmp_path / "postmortems.git"
    git("init", "-q", "--bare", "--initial-branch=main", str(bare))
    seed = tmp_path / "seed"
    git("clone", "-q", str(bare), str(seed))
    git("checkout", "-q", "-b", "main", cwd=seed)
    (seed / "README.md").write_text("# Postmortems\n", encoding="utf-8")
    git("add", "README.md", cwd=seed)
    git("commit", "-q", "-m", "Initial commit", cwd=seed)
    git("push", "-q", "origin", "main", cwd=seed)
    return bare


def config_with(repo: str | Path | None, **postmortems) -> dict:
    pm = {"branch": "main", "path": PATH_PATTERN, "mode": "push", **postmortems}
    if repo is not None:
        pm["repo"] = str(repo)
    return {**BASE_CONFIG, "postmortems": pm}


def posted(fake, channel: str, contains: str, *, thread_ts: str | None = None):
    for call in fake.calls_to("chat.postMessage"):
        p = call.params
        if p.get("channel") == channel and contains in (p.get("text") or ""):
            if thread_ts is None or p.get("thread_ts") == thread_ts:
                return call
    return None


def incident_row(h) -> Incident:
    with h.ctx.session() as s:
        return s.exec(select(Incident)).one()


def record_row(h) -> PostmortemRecord | None:
    with h.ctx.session() as s:
        return s.exec(select(PostmortemRecord)).first()


def run_incident(h) -> str:
    """Declare, take command, post an update, pin a message, add a follow-up, resolve. Returns the channel."""
    fake = h.fake
    channel = h.declare("sev2 Checkout API returning 500s")
    h.command(f"role commander <@{ALICE}|alice>", channel=channel)
    fake.wait_for(lambda f: posted(f, channel, "is now *commander*"))
    h.command("update Rolled back the 14:02 deploy; error rate falling", channel=channel)
    fake.wait_for(lambda f: posted(f, ANNOUNCE, "Rolled back the 14:02 deploy"))
    ts = fake.post_user_message(channel, BOB, "p99 latency back under 300ms after the rollback")
    h.sender.event({"type": "reaction_added", "user": BOB, "reaction": "pushpin",
                    "item": {"type": "message", "channel": channel, "ts": ts}, "item_user": BOB, "event_ts": ts},
                   event_id="Ev0PMPIN01")

    def pinned():
        with h.ctx.session() as s:
            return s.exec(select(TimelineEvent).where(TimelineEvent.kind == "message")).first()

    fake.wait_for(lambda f: pinned())
    h.command(f"followup Add an alert on checkout 5xx ratio <@{BOB}>", channel=channel)
    fake.wait_for(lambda f: posted(f, channel, "Follow-up #"))
    h.command("resolve Bad config in the 14:02 deploy, rolled back", channel=channel)
    fake.wait_for(lambda f: posted(f, channel, "resolved*"))
    return channel


def timeline_lines(markdown: str) -> list[str]:
    section = markdown.split("\n## Timeline\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("- **")]


def test_draft_and_publish_from_slack_to_a_local_bare_repository(harness_factory, bare_repo):
    h = harness_factory(config_with(bare_repo))
    fake = h.fake
    channel = run_incident(h)

    # /incident postmortem: drafted from the record, stored, linted; summary in the channel, findings to the author.
    h.command("postmortem", channel=channel, user=ALICE)
    note = fake.wait_for(lambda f: posted(f, channel, "Blameless postmortem for *INC-1* drafted"))
    text = note.params["text"]
    assert f"<@{ALICE}>" in text and "Timeline (6 events)" in text and "Action items (1)" in text
    assert "/incident postmortem publish" in text and len(text) < 3000
    reply = h.wait_response("linter")
    draft = record_row(h)
    assert draft is not None and draft.commit_sha is None and draft.publish_error is None
    count = len(draft.findings)
    assert (f"{count} finding" in reply["text"]) if count else ("found nothing" in reply["text"])
    assert f"linter: {count} finding" in text if count else "linter: no findings" in text
    assert "p99 latency back under 300ms after the rollback" in draft.markdown

    # /incident postmortem publish: a commit on postmortem/inc-1 in the bare repository.
    h.command("postmortem publish", channel=channel, user=ALICE)
    inc = incident_row(h)
    link = fake.wait_for(lambda f: posted(f, channel, "Postmortem for *INC-1* published"))
    thread = fake.wait_for(lambda f: posted(f, ANNOUNCE, "Postmortem for *INC-1* published", thread_ts=inc.announcement_ts))
    assert inc.announcement_ts and thread.params["thread_ts"] == inc.announcement_ts
    # `postmortems.branch` is the base: the message says where the document is and where to merge it.
    assert "on branch `postmortem/inc-1`" in link.params["text"]
    assert "branched from `main`; merge it into `main`" in link.params["text"]

    record = record_row(h)
    expected_path = f"postmortems/{inc.created_at.year}/0001-checkout-api-returning-500s.md"
    assert record.path == expected_path and record.branch == "postmortem/inc-1"
    assert record.publish_error is None and record.published_at is not None
    assert record.commit_sha == git("--git-dir", str(bare_repo), "rev-parse", "postmortem/inc-1").strip()
    assert expected_path in link.params["text"] and record.commit_sha[:12] in link.params["text"]
    # Push mode publishes on the postmortem branch only; main is untouched.
    assert git("--git-dir", str(bare_repo), "ls-tree", "-r", "--name-only", "main").split() == ["README.md"]

    published = git("--git-dir", str(bare_repo), "show", f"postmortem/inc-1:{expected_path}")
    assert published == record.markdown
    meta, body = split_front_matter(published)
    assert meta == yaml.safe_load(published.split("---\n", 2)[1])
    assert meta["incident"] == 1 and meta["id"] == "INC-1" and meta["title"] == "Checkout API returning 500s"
    assert meta["severity"] == "sev2" and meta["incident_status"] == "resolved" and meta["status"] == "draft"
    assert meta["responders"] == {"commander": ["Alice"], "reporter": ["Riley"]}
    assert meta["follow_ups"] == [{"text": "Add an alert on checkout 5xx ratio", "owner": "Bob", "type": "prevent",
                                   "link": None, "done": False}]
    assert meta["resolved_at"] == inc.resolved_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    # The timeline is the incident's real events, in order, names resolved, with the pinned message's permalink.
    with h.ctx.session() as s:
        events = s.exec(select(TimelineEvent).order_by(TimelineEvent.at, TimelineEvent.id)).all()
    assert [e.kind for e in events] == ["declared", "role", "update", "message", "followup", "resolved"]
    lines = timeline_lines(body)
    expected = ["Incident declared (sev2): Checkout API returning 500s", "@Alice is now commander",
                "Rolled back the 14:02 deploy; error rate falling", "p99 latency back under 300ms after the rollback",
                "Follow-up: Add an alert on checkout 5xx ratio (owner @Bob)",
                "Incident resolved: Bad config in the 14:02 deploy, rolled back"]
    assert len(lines) == len(expected)
    for line, event_text in zip(lines, expected):
        assert event_text in line, (line, event_text)
    pinned = next(e for e in events if e.kind == "message")
    assert pinned.permalink and f"([Slack]({pinned.permalink}))" in lines[3]
    assert "(Bob)" in lines[3] and "(Riley)" in lines[0]
    assert "Time to resolve (from declaration)" in body
    assert "| Add an alert on checkout 5xx ratio | Bob | prevent |" in body

    # Publishing again with nothing new: same commit, said so.
    h.command("postmortem publish", channel=channel, user=ALICE)
    fake.wait_for(lambda f: posted(f, channel, "no changes since the last publish"))
    assert record_row(h).commit_sha == record.commit_sha
    with h.ctx.session() as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.entity == "postmortem"))]
    assert actions.count("publish") == 2 and "draft" in actions


def test_publish_failure_is_reported_and_the_draft_stays(harness_factory, tmp_path):
    missing = tmp_path / "does-not-exist.git"
    h = harness_factory(config_with(missing))
    channel = h.declare("sev3 Search is slow")
    h.command("resolve Cache warmed", channel=channel)
    h.fake.wait_for(lambda f: posted(f, channel, "resolved*"))

    h.command("postmortem publish", channel=channel)
    reply = h.wait_response("failed")
    assert "Publishing the postmortem for *INC-1* failed" in reply["text"]
    assert "cloning" in reply["text"] and "does-not-exist.git" in reply["text"]
    assert "draft is saved" in reply["text"] and reply.get("response_type") == "ephemeral"
    record = record_row(h)
    assert record is not None and "# INC-1: Search is slow" in record.markdown
    assert record.publish_error and "cloning" in record.publish_error
    assert record.commit_sha is None and record.published_at is None
    assert not posted(h.fake, channel, "published")
    assert not missing.exists()


def test_publish_without_repo_names_the_config_key(harness_factory):
    h = harness_factory(config_with(None))
    channel = h.declare("sev3 Search is slow")
    h.command("postmortem publish", channel=channel)
    reply = h.wait_response("not configured")
    assert "`postmortems.repo`" in reply["text"]
    record = record_row(h)
    assert record is not None and "postmortems.repo" in (record.publish_error or "")
    h.command("postmortem frobnicate", channel=channel)
    assert "/incident postmortem publish" in h.wait_response("Unknown postmortem command")["text"]


def test_auto_draft_on_resolve(harness_factory):
    h = harness_factory(config_with(None, auto_draft=True))
    channel = h.declare("sev2 Payments timing out")
    assert record_row(h) is None
    h.command("resolve Provider recovered", channel=channel)
    note = h.fake.wait_for(lambda f: posted(f, channel, "drafted automatically on resolve"))
    assert "`postmortems.repo`" in note.params["text"]  # nowhere to publish yet: says which key to set
    h.fake.wait_for(lambda f: record_row(h))
    h.fake.wait_for(lambda f: not [n for n in h.ctx.background.running() if n.startswith("postmortem-draft-")], 5)
    record = record_row(h)
    assert "Incident resolved: Provider recovered" in record.markdown
    assert split_front_matter(record.markdown)[0]["incident_status"] == "resolved"


def test_draft_and_publish_function_for_the_demo(harness_factory, tmp_path):
    from bot.postmortems.service import draft_and_publish

    bare = init_bare_repository(tmp_path / "demo-postmortems.git")
    assert git("--git-dir", str(bare), "ls-tree", "--name-only", "main").split() == ["README.md"]
    h = harness_factory(config_with(bare))
    channel = h.declare("sev1 Login broken")
    inc = incident_row(h)
    record, findings, result = draft_and_publish(h.ctx, inc.id)
    assert result.pushed and result.path == record.path == f"postmortems/{inc.created_at.year}/0001-login-broken.md"
    assert record.findings == [f.to_dict() for f in findings]
    assert git("--git-dir", str(bare), "show", f"postmortem/inc-1:{result.path}") == record.markdown
    assert posted(h.fake, channel, "drafted") and posted(h.fake, channel, "published")


@pytest.fixture
def no_wired_loader():
    previous = facts_module.set_facts_loader(None)
    yield
    facts_module.set_facts_loader(previous)


def _seed_incident(database_url: str) -> None:
    """An incident written through the incident service (no server running), like a past incident in the DB."""
    from datetime import datetime, timedelta, timezone

    from bot.incidents import store as incident_store
    from storage.db import make_engine, session_scope

    t0 = datetime(2024, 5, 1, 14, 0, tzinfo=timezone.utc)
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as s:
            inc = incident_store.declare(s, title="Checkout API: 500s", severity="sev2", reporter_id=REPORTER, now=t0)
            inc.channel_id = "C0INC1"
            incident_store.assign_role(s, inc, "commander", ALICE, actor=ALICE, now=t0 + timedelta(minutes=3))
            incident_store.add_timeline(s, inc, "message", "Deploy v1.42 looks like the trigger", actor=BOB,
                                 at=t0 + timedelta(minutes=9), source_channel="C0INC1", source_ts="1714572540.000100",
                                 permalink="https://acme.slack.com/archives/C0INC1/p1714572540000100")
            incident_store.add_followup(s, inc, "Canary checkout deploys", owner=BOB, actor=ALICE)
            incident_store.resolve(s, inc, summary="Rolled back", actor=ALICE, now=t0 + timedelta(minutes=50))
    finally:
        engine.dispose()


def test_cli_render_and_publish_from_the_database(database_url, bare_repo, tmp_path, monkeypatch, no_wired_loader):
    _seed_incident(database_url)
    config = tmp_path / "firewatch.yaml"
    config.write_text(yaml.safe_dump(config_with(bare_repo)), encoding="utf-8")
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("FIREWATCH_CONFIG", str(config))
    runner = CliRunner()

    result = runner.invoke(postmortem, ["render", "1"])
    assert result.exit_code == 0, result.output
    meta, body = split_front_matter(result.output)
    assert meta["id"] == "INC-1" and meta["title"] == "Checkout API: 500s" and meta["duration"] == "50m"
    # No Slack token in the CLI: user ids stand in for names.
    assert meta["responders"] == {"commander": [ALICE], "reporter": [REPORTER]}
    lines = timeline_lines(body)
    assert [re.sub(r"^- \*\*[^*]+\*\* — ", "", line).split(" (")[0] for line in lines] == [
        "Incident declared", f"@{ALICE} is now commander", "Deploy v1.42 looks like the trigger",
        "Incident resolved: Rolled back", "Follow-up: Canary checkout deploys"]  # the follow-up was added today
    assert "([Slack](https://acme.slack.com/archives/C0INC1/p1714572540000100))" in lines[2]

    missing = runner.invoke(postmortem, ["render", "7"])
    assert missing.exit_code == 2 and "incident 7 not found" in missing.output

    published = runner.invoke(postmortem, ["publish", "1", "--config", str(config)])
    assert published.exit_code == 0, published.output
    path = "postmortems/2024/0001-checkout-api-500s.md"
    assert f"INC-1: {path} on postmortem/inc-1" in published.output and "(pushed)" in published.output
    shown = git("--git-dir", str(bare_repo), "show", f"postmortem/inc-1:{path}")
    assert shown == result.output
    from storage.db import make_engine, session_scope

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as s:
            record = s.exec(select(PostmortemRecord)).one()
    finally:
        engine.dispose()
    assert record.path == path and record.markdown == shown and record.publish_error is None
    assert record.commit_sha == git("--git-dir", str(bare_repo), "rev-parse", "postmortem/inc-1").strip()


def test_cli_reports_an_unmigrated_database(tmp_path, monkeypatch, no_wired_loader):
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    config = tmp_path / "firewatch.yaml"
    config.write_text("", encoding="utf-8")
    result = CliRunner().invoke(postmortem, ["render", "1", "--config", str(config)])
    assert result.exit_code == 2 and "firewatch db upgrade" in result.output


def test_lint_findings_are_shown_and_block_on_lint_keeps_the_draft_unpublished(harness_factory, bare_repo):
    h = harness_factory(config_with(bare_repo, block_on_lint=True))
    channel = h.declare("sev2 Cache stampede")
    h.command("update It was human error: the cache was not warmed", channel=channel)
    h.fake.wait_for(lambda f: posted(f, channel, "human error"))

    h.command("postmortem", channel=channel)
    reply = h.wait_response("linter")
    assert "1 finding" in reply["text"] and "“human error” (human-error)" in reply["text"]
    assert "linter: 1 finding" in h.fake.wait_for(lambda f: posted(f, channel, "Blameless postmortem")).params["text"]
    assert [f["rule"] for f in record_row(h).findings] == ["human-error"]

    h.command("postmortem publish", channel=channel)
    failed = h.wait_response("failed")
    assert "block_on_lint" in failed["text"] and "human-error" in failed["text"]
    assert not git("--git-dir", str(bare_repo), "branch", "--list", "postmortem/*").strip()
    record = record_row(h)
    assert "block_on_lint" in record.publish_error and record.commit_sha is None


def test_concurrent_drafts_keep_one_record(harness_factory):
    import threading

    from bot.postmortems import service

    h = harness_factory(config_with(None))
    h.declare("sev3 Flaky builds")
    inc = incident_row(h)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait()
            service.draft(h.ctx, inc.id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    with h.ctx.session() as s:
        rows = s.exec(select(PostmortemRecord)).all()
        actions = sorted(a.action for a in s.exec(select(AuditLog).where(AuditLog.entity == "postmortem")))
    assert len(rows) == 1 and "# INC-1: Flaky builds" in rows[0].markdown
    assert actions == ["draft", "redraft", "redraft", "redraft"]
