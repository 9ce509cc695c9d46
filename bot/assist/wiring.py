"""LLM assistance in the running app (installed by `bot.app`).

Adds to `ctx.services`:
* `llm`: the `bot.assist.llm_client.LLMClient` built once from `ctx.config.llm` + environment, or None (→ heuristics). An
  httpx.Client placed in `ctx.services.llm_http_client` before install is used for it; after start-up,
  `bot.assist.service.configure_llm(ctx, http_client=… | client=…)` replaces it (tests, the offline demo);
* `after_declare` hook: a triage suggestion on a background thread (Slack declares and alert-opened incidents);
* `incident_commands["triage"]` / `incident_commands["rca"]`;
* the `POST /webhooks/changes` route (the Accept/Dismiss buttons are in `bot.slack.listeners`).
"""

from __future__ import annotations

import logging

from bot.assist import service, webhooks
from bot.context import AppContext

log = logging.getLogger(__name__)


def install(ctx: AppContext) -> None:
    services = ctx.services
    try:
        service.configure_llm(ctx)
    except Exception:  # noqa: BLE001 - a broken LLM setup must not stop Firewatch: heuristics instead
        log.exception("the LLM client could not be built; heuristic suggestions only")
        services.llm = None
    client = services.llm
    log.info("LLM assistance: %s", f"model {client.model}" if client else
             "no LLM configured (heuristic suggestions)")
    services.routes.extend(webhooks.routes(ctx))
    services.after_declare.append(service.after_declare)
    services.incident_commands["triage"] = service.triage_command
    services.incident_commands["rca"] = service.rca_command
    services.on_stop.append(lambda: service.close_owned_clients(ctx))
