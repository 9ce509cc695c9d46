"""The one way to run work off the request thread: named daemon threads that are joined when the app stops.

Work that must not hold up a Slack acknowledgement (triage after a declare, drafting a postmortem, alert intake,
the PagerDuty mirror) runs on a `BackgroundThreads.start` thread. `stop()` tells long-running workers to finish
(`stopping` is set and each thread's `wake` callback is called), then joins every thread within one deadline, so
shutting down neither hangs on a stuck thread nor disposes the database under a thread that is still writing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class BackgroundThreads:
    """Named daemon threads started on behalf of one running app, and joined when it stops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._wakers: list[Callable[[], None]] = []
        # Loops wait on this (`while not threads.stopping.wait(interval)`) instead of sleeping.
        self.stopping = threading.Event()

    def start(self, name: str, target: Callable[..., Any], *args: Any, failure: str | None = None,
              wake: Callable[[], None] | None = None) -> threading.Thread:
        """Run `target(*args)` on a daemon thread called `name`.

        An exception is logged (message `failure`, or "<name> failed") and ends only this thread. `wake`, if
        given, is called by `stop()` to tell a long-running worker to finish (put a sentinel on its queue, say).
        Raises RuntimeError once `stop()` has begun: work started then would outlive the database."""

        def run() -> None:
            try:
                target(*args)
            except Exception:  # noqa: BLE001 - background work reports its failure here, nowhere else to go
                log.exception("%s", failure or f"{name} failed")

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            if self.stopping.is_set():
                raise RuntimeError(f"cannot start {name!r}: the app is stopping")
            # Finished threads are dropped here so a long-running process does not collect them forever.
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
            if wake is not None:
                self._wakers.append(wake)
            thread.start()
        return thread

    def running(self) -> list[str]:
        """Names of the threads still running."""
        with self._lock:
            return [t.name for t in self._threads if t.is_alive()]

    def stop(self, timeout: float = 5.0) -> list[str]:
        """Tell workers to finish and join every thread within `timeout` seconds in all (safe to call twice).

        Returns the names of threads still running at the deadline (they are daemons and die with the process)."""
        with self._lock:
            self.stopping.set()
            threads, wakers = list(self._threads), list(self._wakers)
            self._wakers.clear()
        for wake in wakers:
            try:
                wake()
            except Exception:  # noqa: BLE001 - one failing waker must not keep the others from being told
                log.exception("waking a background thread failed")
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        left = [t.name for t in threads if t.is_alive()]
        if left:
            log.warning("background threads still running at shutdown: %s", ", ".join(left))
        return left
