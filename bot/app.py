"""The composition root: builds the `AppContext` (database engine, Slack client, typed `Services`) and installs
every feature into it — the scheduler, paging and alert intake, rotations, assistance and postmortems. Each
feature's `wiring.install(ctx)` fills in fields of `ctx.services` (`bot.context.Services`); Slack listeners are
registered in one place, `bot.slack.listeners.register_all`.
"""

from __future__ import annotations

import importlib
import logging

import os

from bot import jobs
from bot.assist.domain.redaction import register_secrets
from bot.config import FirewatchConfig
from bot.context import AppContext
from bot.scheduler import Scheduler
from bot.settings import Settings
from bot.slack.client import make_slack_client
from storage.db import make_engine

log = logging.getLogger(__name__)
# How often the leader looks for undelivered or timed-out escalation steps (well within any step's timeout).
PAGE_SWEEP_SECONDS = 1.0

# Optional feature packages, each with an `install(ctx)`. Listed here so the wiring is explicit and greppable.
FEATURE_MODULES = (
    "bot.paging.wiring",
    "bot.rotations.wiring",
    "bot.assist.wiring",
    "bot.postmortems.wiring",
    "bot.contacts.wiring",
    "bot.coverage.wiring",
    "bot.telemetry.wiring",
    "bot.followups.wiring",
    "bot.catalog.wiring",
    "bot.ops.wiring",
)


def build_context(settings: Settings, config: FirewatchConfig) -> AppContext:
    """A ready context: engine, Slack client, and every feature installed (nothing started yet)."""
    engine = make_engine(settings.database_url)
    slack = make_slack_client(settings.slack_bot_token, settings.normalized_slack_api_url)
    ctx = AppContext(settings=settings, config=config, engine=engine, slack=slack)
    # Secrets kept under env names the team chose (webhook token, PagerDuty keys...) are redacted by value too.
    register_secrets(os.environ.get(name) for name in config.secret_env_names())
    install(ctx)
    return ctx


def install(ctx: AppContext) -> None:
    """Install the scheduler and every feature package into `ctx.services`."""
    services = ctx.services
    scheduler = Scheduler(ctx.engine)
    services.scheduler = scheduler
    jobs.install(ctx)
    # Not an APScheduler job: the sweep must keep running even if the job store lost or mangled a job.
    scheduler.add_leader_task("page-sweep", jobs.page_sweep, every=PAGE_SWEEP_SECONDS)
    services.on_start.append(scheduler.start)
    services.on_stop.append(scheduler.shutdown)
    # After the scheduler, so work its jobs handed off (mirror events, say) is still done before the database goes.
    services.on_stop.append(ctx.background.stop)
    for name in FEATURE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only a missing feature package itself is skipped; a broken import inside one is an error.
            if not exc.name or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
            continue
        module.install(ctx)

