"""Telemetry test fixtures: the LLM stand-in of the assist tests, and a real Prometheus scraping a loopback exporter
whose counters follow a clock the test moves between phases."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from tests.assist.conftest import llm_env, llm_route  # noqa: F401 - fixtures reused as they are

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
SCRAPE_SECONDS = 1.0
BASE_ERRORS_PER_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(eq=False)  # hashable by identity: the registry keys collectors
class Checkout:
    """Counters computed from the wall clock: errors grow at `error_rate` per second, set by the test at known times."""

    error_rate: float = BASE_ERRORS_PER_S
    queue_depth: float = 5.0
    _errors: float = 0.0
    _since: float = field(default_factory=time.time)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set_error_rate(self, rate: float) -> float:
        """Change the rate now; returns the instant of the change."""
        with self._lock:
            now = time.time()
            self._errors += self.error_rate * (now - self._since)
            self._since, self.error_rate = now, rate
            return now

    def collect(self):
        with self._lock:
            errors = self._errors + self.error_rate * (time.time() - self._since)
        yield CounterMetricFamily("checkout_errors", "Checkout 5xx responses", value=errors)
        yield GaugeMetricFamily("checkout_queue_depth", "Checkout work queue depth", value=self.queue_depth)


@dataclass
class LivePrometheus:
    url: str
    checkout: Checkout


@pytest.fixture
def live_prometheus(tmp_path):
    if not shutil.which(PROMETHEUS):
        pytest.fail("prometheus is not installed (Debian package `prometheus`; .ci/run installs it)")
    checkout = Checkout()
    registry = CollectorRegistry()
    registry.register(checkout)
    exporter_port = free_port()
    server, thread = start_http_server(exporter_port, addr="127.0.0.1", registry=registry)
    prom_port = free_port()
    (tmp_path / "prometheus.yml").write_text(
        f"global:\n  scrape_interval: {SCRAPE_SECONDS:g}s\n  evaluation_interval: {SCRAPE_SECONDS:g}s\n"
        f"scrape_configs:\n  - job_name: checkout\n    static_configs:\n"
        f"      - targets: ['127.0.0.1:{exporter_port}']\n")
    proc = subprocess.Popen([PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}"],
                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / "prometheus.log", "wb"))
    url = f"http://127.0.0.1:{prom_port}"
    try:
        _wait_ready(url, proc)
        yield LivePrometheus(url, checkout)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        server.shutdown()


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prometheus exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling a readiness endpoint, not asserting on elapsed time
    raise RuntimeError("prometheus did not become ready")
