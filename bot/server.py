"""Assembling and running Firewatch: context, Slack app, HTTP server, background sweeps."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from dataclasses import dataclass

import uvicorn

from bot.app import build_context
from bot.config import FirewatchConfig
from bot.context import AppContext
from bot.scheduler import SecondSchedulerOnFile
from bot.settings import Settings
from bot.slack.app import build_app
from bot.web import build_web_app

log = logging.getLogger(__name__)


@dataclass
class Running:
    """A started server (HTTP thread and optional Socket Mode handler), for tests, the demo and `serve`."""

    ctx: AppContext
    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        for stop in self.ctx.services.on_stop:
            stop()
        self.ctx.engine.dispose()


def start_in_thread(ctx: AppContext, *, host: str = "127.0.0.1", port: int = 0, mode: str = "http") -> Running:
    """Start the HTTP server on a background thread and wait until it accepts connections."""
    slack_app = build_app(ctx, extra_registrations=ctx.services.listeners)
    web = build_web_app(ctx, slack_app if mode == "http" else None, extra_routes=ctx.services.routes)
    config = uvicorn.Config(web, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="firewatch-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the HTTP server did not start on {host}:{port}")
        time.sleep(0.02)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    for start in ctx.services.on_start:
        start()
    return Running(ctx=ctx, server=server, thread=thread, url=f"http://{host}:{bound_port}")


def start_background_repair(ctx: AppContext) -> None:
    """Finish the Slack set-up of incidents a previous run left incomplete (a crash or a Slack outage)."""
    from bot.incidents.service import repair_all

    def run() -> None:
        repaired = repair_all(ctx)
        if repaired:
            log.info("start-up repair: %s", repaired)

    ctx.background.start("firewatch-repair", run,
                         failure="start-up repair failed; `/incident repair` can be run by hand")


def serve_forever(ctx: AppContext, *, mode: str, host: str, port: int) -> None:
    """`firewatch serve`: HTTP mode serves Slack and webhooks; Socket Mode takes Slack traffic over the socket and
    still serves webhooks and health on the port."""
    slack_app = build_app(ctx, extra_registrations=ctx.services.listeners)
    web = build_web_app(ctx, slack_app if mode == "http" else None, extra_routes=ctx.services.routes)
    if mode == "socket":
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(slack_app, ctx.settings.slack_app_token)
        handler.connect()
        log.info("connected to Slack in Socket Mode")
    scheduler = ctx.services.scheduler
    if scheduler is not None:
        # Two `serve` processes on one SQLite file would both write it; only PostgreSQL supports replicas.
        scheduler.refuse_second_on_sqlite = True
    try:
        for start in ctx.services.on_start:
            start()
        start_background_repair(ctx)
        # SIGTERM makes uvicorn stop accepting, answer the requests in flight and return; then the stop hooks run
        # (scheduler paused and its lock released at once, so a follower takes over without waiting for a timeout).
        config = uvicorn.Config(web, host=host, port=port, log_level="info", lifespan="off",
                                access_log=False,  # bot.web logs paths
                                timeout_graceful_shutdown=10)
        _GracefulServer(config).run()
    except SecondSchedulerOnFile as exc:
        raise SystemExit(f"refusing to start: {exc}") from None
    finally:
        _run_stop_hooks(ctx)


class _GracefulServer(uvicorn.Server):
    """uvicorn re-raises a captured SIGTERM/SIGINT once it has stopped serving, which kills the process before the
    stop hooks run (the scheduler lock would then be freed only when the connection drops). Here the signal just
    ends serving; `serve_forever` then stops the rest and the process exits normally."""

    @contextlib.contextmanager
    def capture_signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def _run_stop_hooks(ctx: AppContext) -> None:
    for stop in ctx.services.on_stop:
        try:
            stop()
        except Exception:  # noqa: BLE001 - one failing hook must not keep the others (the lock release) from running
            log.exception("stop hook failed")
    ctx.engine.dispose()
    log.info("stopped")
