"""What every listener and flow needs, built once at start-up and passed explicitly (no globals)."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.background import BackgroundThreads
from storage.db import session_scope

_log = logging.getLogger(__name__)

if TYPE_CHECKING:  # types only: the features import this module, and bot.config imports the features
    import httpx

    from bot.config import FirewatchConfig
    from bot.settings import Settings
    from bot.assist.llm_client import LLMClient
    from bot.paging.pagerduty import PagerDutyClient
    from bot.scheduler import Scheduler

# (ctx, incident_id) after an incident is declared or resolved.
IncidentHook = Callable[["AppContext", int], None]
# (ctx, incident, cmd, user, respond) for `/incident <name>` sub-commands a feature adds.
IncidentCommand = Callable[..., None]


@dataclass
class Services:
    """What the features plug into a running Firewatch, by typed field (filled by `bot.app.install`)."""

    scheduler: Scheduler | None = None
    # `register(app, ctx, once_per_event)` functions adding Slack listeners.
    listeners: list[Callable[..., None]] = field(default_factory=list)
    # Starlette routes (webhooks, feeds).
    routes: list[Any] = field(default_factory=list)
    on_start: list[Callable[[], None]] = field(default_factory=list)
    on_stop: list[Callable[[], None]] = field(default_factory=list)
    after_declare: list[IncidentHook] = field(default_factory=list)
    after_resolve: list[IncidentHook] = field(default_factory=list)
    # `/incident <name>` handlers added by features (triage, rca, postmortem), by sub-command name.
    incident_commands: dict[str, IncidentCommand] = field(default_factory=dict)
    # Rotations: who is on call for a rotation / for an incident's service (None without rotations).
    oncall_lookup: Callable[..., Any] | None = None
    oncall_for_incident: Callable[..., Any] | None = None
    # Paging: builds the PagerDuty Events client for a routing key (tests point it at a stand-in).
    pagerduty_factory: Callable[[str], PagerDutyClient] | None = None
    pagerduty_queue: Any = None
    # The HTTP edge's database reachability probe (`/readyz`, 503s during an outage).
    database_probe: Any = None
    # Assistance: the model client (None = heuristics), an httpx.Client to build it with, clients we must close.
    llm: LLMClient | None = None
    llm_http_client: httpx.Client | None = None
    owned_http_clients: list[Any] = field(default_factory=list)
    # Postmortems: draft and publish one incident's postmortem (used by the CLI and resolve).
    postmortem_draft_and_publish: Callable[..., Any] | None = None
    # `/oncall <name>` handlers added by other features (`contact`), by sub-command name:
    # `(ctx, user, text, respond) -> None`, `text` being everything after the sub-command.
    oncall_commands: dict[str, Callable[..., None]] = field(default_factory=dict)
    # Paging hooks for other notification channels (contacts): `(ctx, page_id, user_id)` after a page's Slack DM
    # reached a person; `(ctx, page_id, status)` once a page is acknowledged or resolved ("acknowledged"/"resolved").
    page_reached: list[Callable[..., None]] = field(default_factory=list)
    page_closed: list[Callable[..., None]] = field(default_factory=list)
    # (ctx, rotation name | None) after an override, swap or away has been committed (coverage re-checks).
    roster_changed: list[Callable[..., None]] = field(default_factory=list)
    # The pinned incident summary's budget lines (telemetry): `(ctx, incident_id) -> list[str]`, never raising.
    summary_budget_lines: Callable[..., list[str]] | None = None
    # Extra evidence for triage/RCA (telemetry): `(ctx, incident_id) -> list[bot.assist.domain.EvidenceItem]`,
    # plus re-checkers `(ctx, evidence_item) -> bool` keyed by evidence kind, run before a cited claim is shown.
    evidence_sources: list[Callable[..., list[Any]]] = field(default_factory=list)
    evidence_checkers: dict[str, Callable[..., bool]] = field(default_factory=dict)


@dataclass
class AppContext:
    settings: Settings
    config: FirewatchConfig
    engine: Engine
    slack: WebClient
    # What the features plug in (scheduler, listeners, hooks, LLM client, ...), by typed field.
    services: Services = field(default_factory=Services)
    # Work off the request thread (triage, drafts, alert intake, the PagerDuty mirror); joined when the app stops.
    background: BackgroundThreads = field(default_factory=BackgroundThreads)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as s:
            yield s

    @property
    def prefix(self) -> str:
        return self.config.incidents.channel_prefix

    def leader_may_act(self, job: str) -> bool:
        """True if a scheduled job may act here: this process's scheduler still holds the lock and its epoch is
        the current one. A deposed leader whose job store still fires does nothing. Outside a started scheduler
        (a maintenance script, a test calling a job directly) there is nobody to fence."""
        scheduler = self.services.scheduler
        if scheduler is None or not getattr(scheduler, "started", False):
            return True
        if scheduler.confirm_leadership():
            return True
        _log.warning("job %s skipped: this process is not the current scheduler leader", job)
        return False
