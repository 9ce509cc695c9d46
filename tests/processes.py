"""Running `firewatch serve` as a real process in tests (black-box and restart tests)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, port: int, cwd, timeout: float = 30, mode: str = "http",
                 log_path=None) -> subprocess.Popen:
    """Start `python -m bot serve --mode MODE` and wait until /healthz answers. With `log_path` its output goes to
    that file (long-running processes: a pipe nobody reads would fill up and block the server)."""
    out = open(log_path, "ab") if log_path else subprocess.PIPE  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--mode", mode, "--port", str(port)],
                            env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if log_path:
        out.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = open(log_path).read() if log_path else proc.stdout.read().decode()
            raise AssertionError("server exited:\n" + output)
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start in time")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
