"""Wires the feature packages into a running Firewatch: the scheduler, paging and alert intake, rotations,
LLM assistance and postmortems. Each feature's `install(ctx)` adds to `ctx.services`:

- `listeners`: functions `register(app, ctx, once_per_event)` adding Slack listeners;
- `routes`: Starlette routes (webhooks, feeds);
- `on_start` / `on_stop`: callables run when the server starts and stops;
- `after_declare` / `after_resolve`: hooks `(ctx, incident_id)` run after those incident changes;
- `incident_command:<name>`: handlers `(ctx, incident, cmd, user, respond)` for `/incident <name>`;
- named services (`scheduler`, `oncall_lookup`, `oncall_for_incident`, ...).
"""

from __future__ import annotations

import importlib
import logging

from bot import jobs
from bot.context import AppContext
from bot.scheduler import Scheduler

log = logging.getLogger(__name__)
# How often the leader looks for undelivered or timed-out escalation steps (well within any step's timeout).
PAGE_SWEEP_SECONDS = 1.0

# Optional feature packages, each with an `install(ctx)`. Listed here so the wiring is explicit and greppable.
FEATURE_MODULES = (
    "bot.paging.wiring",
    "bot.oncall.wiring",
    "bot.assist.wiring",
    "bot.postmortems_app.wiring",
)


def install(ctx: AppContext) -> None:
    services = ctx.services
    for key in ("listeners", "routes", "on_start", "on_stop", "after_declare", "after_resolve"):
        services.setdefault(key, [])
    scheduler = Scheduler(ctx.engine)
    services["scheduler"] = scheduler
    jobs.install(ctx)
    # Not an APScheduler job: the sweep must keep running even if the job store lost or mangled a job.
    scheduler.add_leader_task("page-sweep", jobs.page_sweep, every=PAGE_SWEEP_SECONDS)
    services["on_start"].append(scheduler.start)
    services["on_stop"].append(scheduler.shutdown)
    # After the scheduler, so work its jobs handed off (mirror events, say) is still done before the database goes.
    services["on_stop"].append(ctx.background.stop)
    for name in FEATURE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Only a missing feature package itself is skipped; a broken import inside one is an error.
            if not exc.name or not (name == exc.name or name.startswith(exc.name + ".")):
                raise
            continue
        module.install(ctx)

