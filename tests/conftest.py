"""Shared fixtures: a fresh migrated database per test (SQLite by default, PostgreSQL when
FIREWATCH_TEST_DATABASE_URL is set), the fake Slack Web API on loopback, and a running Firewatch server."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import parse_config
from bot.context import AppContext
from bot.devtools.fake_slack import FakeSlack, FakeSlackServer
from bot.devtools.signed_requests import SlackSender
# Any call the strict Slack stand-in refused (as Slack would) fails the test that made it.
from bot.devtools.slack_violations_fixture import no_slack_violations  # noqa: F401
from bot.server import Running, build_context, start_in_thread
from bot.settings import Settings
from storage.db import normalize_url, upgrade

PG_URL_ENV = "FIREWATCH_TEST_DATABASE_URL"
SIGNING_SECRET = "test-signing-secret-8f742231b10e"
BOT_TOKEN = "xoxb-test-token"
ANNOUNCE = "C0ANNOUNCE"
REPORTER = "U0REPORTER"
ALICE = "U0ALICE"
BOB = "U0BOB"

BASE_CONFIG = {
    "admins": [ALICE],
    "incidents": {"announcements_channel": ANNOUNCE, "channel_prefix": "inc"},
}


@pytest.fixture(autouse=True)
def _clean_slack_env(monkeypatch):
    # Real credentials in the developer's shell must never reach a test (bolt calls auth.test at start-up).
    for name in list(os.environ):
        if name.startswith(("SLACK_", "FIREWATCH_SLACK", "OPENAI_", "FIREWATCH_LLM", "PAGERDUTY_", "GITHUB_TOKEN",
                            "FIREWATCH_DATABASE_URL", "FIREWATCH_CONFIG", "FIREWATCH_WEBHOOK_TOKEN")):
            monkeypatch.delenv(name, raising=False)


class _Databases:
    """Hands out fresh databases cloned from one migrated template (fast on both backends)."""

    def __init__(self, tmp_root: Path):
        self.pg_url = os.environ.get(PG_URL_ENV)
        self.tmp_root = tmp_root
        self.created: list[str] = []
        self.template: str | None = None
        self.backend = "postgresql" if self.pg_url else "sqlite"

    def _admin(self):
        return create_engine(normalize_url(self.pg_url), isolation_level="AUTOCOMMIT")

    def _prepare(self) -> None:
        if self.template is not None:
            return
        if self.pg_url:
            name = f"fw_template_{uuid.uuid4().hex[:8]}"
            admin = self._admin()
            with admin.connect() as conn:  # fails loudly when PostgreSQL is unreachable: CI must not skip
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            upgrade(str(make_url(normalize_url(self.pg_url)).set(database=name).render_as_string(hide_password=False)))
            self.template = name
        else:
            path = self.tmp_root / "template.db"
            upgrade(f"sqlite:///{path}")
            self.template = str(path)

    def new(self) -> str:
        self._prepare()
        if self.pg_url:
            name = f"fw_test_{uuid.uuid4().hex[:10]}"
            admin = self._admin()
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
            admin.dispose()
            self.created.append(name)
            return make_url(normalize_url(self.pg_url)).set(database=name).render_as_string(hide_password=False)
        path = self.tmp_root / f"{uuid.uuid4().hex[:10]}.db"
        shutil.copy(self.template, path)
        return f"sqlite:///{path}"

    def drop_all(self) -> None:
        if not self.pg_url:
            return
        admin = self._admin()
        with admin.connect() as conn:
            for name in [*self.created, self.template]:
                if name:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    dbs = _Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.drop_all()


@pytest.fixture
def database_url(databases) -> str:
    return databases.new()


@pytest.fixture
def fake_slack():
    server = FakeSlackServer().start()
    fake: FakeSlack = server.fake
    for uid, name in ((REPORTER, "Riley"), (ALICE, "Alice"), (BOB, "Bob")):
        fake.add_user(uid, name)
    fake.add_channel(ANNOUNCE, "incidents")
    fake.add_channel("C0GENERAL", "general", members=["UFIREWATCH", REPORTER, ALICE, BOB])
    server.fake_server = server
    yield server
    server.stop()


def make_settings(database_url: str, slack_api_url: str, **extra) -> Settings:
    return Settings(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                    FIREWATCH_SLACK_API_URL=slack_api_url, FIREWATCH_DATABASE_URL=database_url, **extra)


@dataclass
class Harness:
    """A running Firewatch wired to the fake Slack, and a sender of signed Slack requests."""

    running: Running
    fake: FakeSlack
    fake_server: FakeSlackServer
    sender: SlackSender

    @property
    def ctx(self) -> AppContext:
        return self.running.ctx

    def command(self, text: str, *, user: str = REPORTER, channel: str = "C0GENERAL", **kw):
        return self.sender.command("/incident", text, user=user, channel=channel, **kw)

    def responses(self) -> list[dict]:
        with self.fake.lock:
            return list(self.fake.responses)

    def wait_response(self, contains: str, timeout: float = 10.0) -> dict:
        return self.fake.wait_for(lambda f: next((r for r in f.responses if contains in (r.get("text") or "")), None),
                                  timeout)

    def declare(self, text: str = "sev2 Checkout API returning 500s", user: str = REPORTER):
        """Declare and wait until the announcement is posted; return the incident channel id."""
        before = len(self.fake.calls_to("conversations.create"))
        resp = self.command(f"declare {text}", user=user)
        assert resp.status_code == 200, resp.text
        self.fake.wait_for(lambda f: len(f.calls_to("conversations.create")) > before)
        created = self.fake.calls_to("conversations.create")[before]
        channel = created.response["channel"]["id"]
        self.wait_response("declared")
        return channel


@pytest.fixture
def harness_factory(database_url, fake_slack):
    started: list[Harness] = []

    def start(config: dict | None = None, **settings_extra) -> Harness:
        settings = make_settings(database_url, fake_slack.api_url, **settings_extra)
        cfg = parse_config(config if config is not None else BASE_CONFIG)
        ctx = build_context(settings, cfg)
        running = start_in_thread(ctx)
        sender = SlackSender(running.url, SIGNING_SECRET, response_url=fake_slack.response_url())
        h = Harness(running=running, fake=fake_slack.fake, fake_server=fake_slack, sender=sender)
        started.append(h)
        return h

    yield start
    for h in started:
        h.sender.close()
        h.running.stop()


@pytest.fixture
def harness(harness_factory) -> Harness:
    return harness_factory()
