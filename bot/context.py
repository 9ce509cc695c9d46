"""What every listener and flow needs, built once at start-up and passed explicitly (no globals)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import FirewatchConfig
from bot.core.background import BackgroundThreads
from bot.settings import Settings
from storage.db import session_scope


@dataclass
class AppContext:
    settings: Settings
    config: FirewatchConfig
    engine: Engine
    slack: WebClient
    # Optional services wired in by `serve` (scheduler, LLM client, ...), by name.
    services: dict[str, Any] = field(default_factory=dict)
    # Work off the request thread (triage, drafts, alert intake, the PagerDuty mirror); joined when the app stops.
    background: BackgroundThreads = field(default_factory=BackgroundThreads)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as s:
            yield s

    @property
    def prefix(self) -> str:
        return self.config.incidents.channel_prefix
