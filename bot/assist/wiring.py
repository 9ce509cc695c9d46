"""LLM assistance in the running app (imported by `bot.features` when present).

Adds to `ctx.services`:
* `llm`: the `bot.llm.LLMClient` built once from `ctx.config.llm` + environment, or None (→ heuristics). An
  httpx.Client placed in `ctx.services["llm_http_client"]` before install is used for it; after start-up,
  `bot.assist.service.configure_llm(ctx, http_client=… | client=…)` replaces it (tests, the offline demo);
* `after_declare` hook: a triage suggestion on a background thread (Slack declares and alert-opened incidents);
* `incident_command:triage` / `incident_command:rca`;
* the Accept/Dismiss button listener and the `POST /webhooks/changes` route.
"""

from __future__ import annotations

import logging

from bot.assist import service, webhooks
from bot.context import AppContext

log = logging.getLogger(__name__)


def install(ctx: AppContext) -> None:
    from bot.slack.listeners.actions import assist_buttons

    services = ctx.services
    try:
        service.configure_llm(ctx)
    except Exception:  # noqa: BLE001 - a broken LLM setup must not stop Firewatch: heuristics instead
        log.exception("the LLM client could not be built; heuristic suggestions only")
        services[service.LLM_SERVICE] = None
    client = services.get(service.LLM_SERVICE)
    log.info("LLM assistance: %s", f"model {client.model}" if client else
             "no LLM configured (heuristic suggestions)")
    services.setdefault("listeners", []).append(assist_buttons.register)
    services.setdefault("routes", []).extend(webhooks.routes(ctx))
    services.setdefault("after_declare", []).append(service.after_declare)
    services["incident_command:triage"] = service.triage_command
    services["incident_command:rca"] = service.rca_command
    services.setdefault("on_stop", []).append(lambda: service.close_owned_clients(ctx))
