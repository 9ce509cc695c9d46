"""Writes the recorded series of the metric scenarios (`python -m benchmarks.scenarios.metrics._generate`).

The series are synthetic but shaped like real scrapes (15 s step, noise, a daily-like wave, one-scrape spikes,
ramps); each is stored as the body Prometheus returns for `/api/v1/query_range`, so the benchmark replays them
through the real client offline. Seeded: re-running writes the same files.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
STEP = 15.0
LOOKBACK, LOOKAHEAD = 1800.0, 600.0


def _series(start: float, shape, rng: random.Random) -> list[list]:
    out, t = [], start - LOOKBACK
    while t <= start + LOOKAHEAD:
        out.append([t, f"{shape(t - start, rng):.6g}"])
        t += STEP
    return out


def step(before, after, at, noise):
    return lambda dt, rng: (after if dt >= at else before) + rng.gauss(0, noise)


def ramp(level, slope_per_s, at, noise):
    return lambda dt, rng: level + (slope_per_s * (dt - at) if dt >= at else 0) + rng.gauss(0, noise)


def wave(level, amp, period, noise):
    return lambda dt, rng: level + amp * math.sin(2 * math.pi * dt / period) + rng.gauss(0, noise)


def spike(level, height, at, noise):
    return lambda dt, rng: level + (height if at <= dt < at + STEP else 0) + rng.gauss(0, noise)


def noise(level, sigma):
    return lambda dt, rng: level + rng.gauss(0, sigma)


# scenario id -> {query: [(labels, shape)]}; the scenario YAML says which series truly moved.
SCENARIOS = {
    "m1_checkout_errors": {
        "job:errors:ratio5m": [({"service": "payments-api"}, step(0.002, 0.12, -300, 0.0005)),
                               ({"service": "search-api"}, noise(0.004, 0.0008))],
        "job:latency_p99:5m": [({"service": "payments-api"}, noise(0.25, 0.02)),
                               ({"service": "search-api"}, noise(0.4, 0.03))],
        "process_cpu:rate5m": [({"service": "payments-api"}, noise(0.6, 0.05))],
    },
    "m2_disk_ramp": {
        "node_filesystem_free_ratio": [({"service": "postgres", "mount": "/var/lib/postgresql"},
                                        ramp(0.41, -0.00015, -600, 0.0008)),
                                       ({"service": "postgres", "mount": "/"}, noise(0.7, 0.001))],
        "pg_connections": [({"service": "postgres"}, noise(120, 6))],
    },
    "m3_latency_after_spike": {
        "job:latency_p99:5m": [({"service": "search-api"}, step(0.35, 1.9, -120, 0.03)),
                               ({"service": "indexer"}, spike(0.5, 6.0, -60, 0.03))],
        "job:errors:ratio5m": [({"service": "search-api"}, noise(0.001, 0.0003))],
    },
    "m4_quiet": {
        "job:errors:ratio5m": [({"service": "sso"}, noise(0.003, 0.0006)),
                               ({"service": "auth-api"}, noise(0.002, 0.0005))],
        "job:latency_p99:5m": [({"service": "sso"}, noise(0.3, 0.03))],
        "process_cpu:rate5m": [({"service": "sso"}, spike(0.5, 0.4, -240, 0.04))],
    },
    "m5_seasonal_queue": {
        "queue_depth": [({"service": "etl", "queue": "exports"}, step(40, 900, -180, 8)),
                        ({"service": "etl", "queue": "imports"}, wave(60, 25, 1200, 4))],
        "process_resident_memory_bytes": [({"service": "warehouse"}, wave(2.0e9, 1.5e8, 2400, 1.0e7))],
    },
    "m6_two_pods": {
        "kube_pod_restarts:increase5m": [({"service": "k8s", "pod": "img-worker-1"}, step(0, 3, -420, 0.05)),
                                         ({"service": "k8s", "pod": "img-worker-2"}, step(0, 2, -360, 0.05)),
                                         ({"service": "k8s", "pod": "api-1"}, noise(0, 0.05))],
        "container_memory_working_set_bytes": [({"service": "k8s", "pod": "img-worker-1"},
                                                ramp(1.0e9, 6.0e5, -800, 5e6))],
    },
    "m7_hard": {
        "job:errors:ratio5m": [({"service": "checkout"}, step(0.010, 0.0125, -200, 0.0012))],
        "process_cpu:rate5m": [({"service": "checkout"}, wave(0.5, 0.3, 7200, 0.01))],
        "job:latency_p99:5m": [({"service": "checkout"}, noise(0.3, 0.02))],
    },
}
START = 1714564800.0  # 2024-05-01T12:00:00Z, the incident start in every scenario


def main() -> None:
    for n, (sid, queries) in enumerate(SCENARIOS.items()):
        rng = random.Random(1000 + n)
        out = {q: {"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": labels, "values": _series(START, shape, rng)} for labels, shape in rows]}}
            for q, rows in queries.items()}
        (HERE / f"{sid}.json").write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
