"""Shared fixtures: sample incident facts and throwaway git repositories (a bare "remote" plus helper clones)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.postmortems.domain import facts as facts_module
from bot.postmortems.domain.config import PostmortemsConfig
from bot.postmortems.domain.facts import FollowUp, PostmortemFacts, TimelineEntry

FIXTURES = Path(__file__).parent / "fixtures"
T0 = datetime(2024, 5, 1, 14, 0, 0, tzinfo=timezone.utc)
TITLE = 'Checkout API: returning 500s — "payments" 🔥 #2'


def fixture_json(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def make_facts(**overrides: object) -> PostmortemFacts:
    """A realistic incident; the timeline is deliberately recorded out of order."""
    values: dict[str, object] = dict(
        number=42,
        title=TITLE,
        severity="sev2",
        status="resolved",
        channel_prefix="inc",
        started_at=T0,
        detected_at=T0 + timedelta(minutes=4),
        mitigated_at=T0 + timedelta(minutes=40),
        resolved_at=T0 + timedelta(hours=1, minutes=23),
        services=["checkout-api", "payments"],
        responders={"incident_commander": ["Alice Example"], "scribe": ["Bob"], "communications": []},
        timeline=[
            TimelineEntry(T0 + timedelta(minutes=40), "Rolled back to v1.41; error rate back to baseline", "Bob",
                          "https://acme.slack.com/archives/C0INC42/p1714572000000300", "message"),
            TimelineEntry(T0 + timedelta(minutes=4), "Incident declared: sev2", "Alice Example",
                          "https://acme.slack.com/archives/C0INC42/p1714569840000100", "status"),
            TimelineEntry(T0, "Alert: checkout 5xx rate above 5%", None,
                          "https://acme.slack.com/archives/C0ALERTS/p1714569600000001", "alert"),
            TimelineEntry(T0 + timedelta(minutes=12), "Deploy v1.42 identified as the trigger", "Alice Example",
                          "https://acme.slack.com/archives/C0INC42/p1714570320000200", "message"),
        ],
        follow_ups=[
            FollowUp("Roll back automatically when the 5xx rate doubles", "Alice Example", "prevent",
                     "https://jira.example.com/browse/OPS-1"),
            FollowUp("Add a checkout canary | stage 1", None, "mitigate", None, True),
        ],
        metrics={"orders_failed": 311, "error_rate_peak": "12%"},
        summary="Checkout requests failed for 40 minutes after a deploy.",
    )
    values.update(overrides)
    return PostmortemFacts(**values)  # type: ignore[arg-type]


@pytest.fixture
def facts() -> PostmortemFacts:
    return make_facts()


@pytest.fixture(autouse=True)
def _reset_facts_loader() -> Iterator[None]:
    previous = facts_module.set_facts_loader(None)
    yield
    facts_module.set_facts_loader(previous)


def git(*args: str, cwd: Path | str | None = None, check: bool = True) -> str:
    """Run git for test setup/inspection with an explicit identity (independent of the host's git config)."""
    proc = subprocess.run(
        ["git", "-c", "user.name=Other Person", "-c", "user.email=other@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository with one commit on main (like a freshly created postmortems repo)."""
    bare = tmp_path / "postmortems.git"
    git("init", "-q", "--bare", "--initial-branch=main", str(bare))
    seed = tmp_path / "seed"
    git("clone", "-q", str(bare), str(seed))
    (seed / "README.md").write_text("# Postmortems\n", encoding="utf-8")
    git("checkout", "-q", "-b", "main", cwd=seed)
    git("add", "README.md", cwd=seed)
    git("commit", "-q", "-m", "Initial commit", cwd=seed)
    git("push", "-q", "origin", "main", cwd=seed)
    return bare


@pytest.fixture
def config_for(remote: Path) -> Callable[..., PostmortemsConfig]:
    def build(**overrides: object) -> PostmortemsConfig:
        return PostmortemsConfig(**{"repo": str(remote), **overrides})

    return build


def show(bare: Path, ref: str, path: str) -> str:
    """`git show ref:path` in the bare remote."""
    return git("--git-dir", str(bare), "show", f"{ref}:{path}")
