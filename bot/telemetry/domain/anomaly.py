"""Anomaly detection over metric series, without an LLM: what moved, when, and how much.

Each series gets a robust baseline (median and MAD of its points before `baseline_until`); the change point is the
first later point that leaves the baseline by more than `threshold` robust deviations and stays out for `persist`
points (one stray scrape is noise). Findings are ranked by surprise, damped by their distance in time from the
incident start, so a large jump minutes before the start outranks a larger one an hour earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation
SURPRISE_CAP = 1000.0  # beyond this, "how surprising" stops mattering and closeness decides
CLOSENESS_SECONDS = 300.0  # a change this far from the start counts half as much as one at the start

Point = tuple[float, float]  # (unix seconds, value)


@dataclass(frozen=True)
class Series:
    """One series of a query's result."""

    query: str
    labels: dict[str, str]
    points: list[Point]


@dataclass(frozen=True)
class Finding:
    """A series that moved: when it changed, from what to what, how surprising, and its ranking score."""

    query: str
    labels: dict[str, str]
    changed_at: float
    baseline: float
    after: float
    surprise: float
    score: float = 0.0
    points: list[Point] = field(default_factory=list, compare=False, repr=False)

    @property
    def delta(self) -> float:
        return self.after - self.baseline


def robust_scale(values: list[float]) -> tuple[float, float]:
    """(median, robust standard deviation); a flat baseline gets a small floor so any real move is surprising."""
    mid = median(values)
    mad = median(abs(v - mid) for v in values)
    floor = max(abs(mid) * 0.01, 1e-6)
    return mid, max(mad * MAD_TO_SIGMA, floor)


def change_point(points: list[Point], baseline_until: float, *, threshold: float = 4.0,
                 persist: int = 2, min_baseline: int = 3) -> Finding | None:
    """The first lasting departure from the baseline (points before `baseline_until`), or None."""
    base = [v for t, v in points if t < baseline_until]
    later = [(t, v) for t, v in points if t >= baseline_until]
    if len(base) < min_baseline or not later:
        return None
    mid, scale = robust_scale(base)
    out = [abs(v - mid) / scale > threshold for _, v in later]
    for i, is_out in enumerate(out):
        window = out[i:i + persist]
        if is_out and all(window) and (len(window) == persist or i + len(window) == len(out)):
            run = next((j for j in range(i, len(out)) if not out[j]), len(out))
            after = median(v for _, v in later[i:run])  # the level while it stayed out, not after a recovery
            return Finding(query="", labels={}, changed_at=later[i][0], baseline=mid, after=after,
                           surprise=min(abs(after - mid) / scale, SURPRISE_CAP), points=list(points))
    return None


def closeness(changed_at: float, start: float, tau: float = CLOSENESS_SECONDS) -> float:
    """1 at the incident start, 1/2 at `tau` seconds away, tending to 0 further out."""
    return 1.0 / (1.0 + abs(changed_at - start) / tau)


def find_anomalies(series: list[Series], start: float, baseline_until: float, *, limit: int = 5,
                   threshold: float = 4.0) -> list[Finding]:
    """Findings over all series, best first (surprise × closeness to the incident start)."""
    found: list[Finding] = []
    for s in series:
        f = change_point(s.points, baseline_until, threshold=threshold)
        if f is not None:
            score = f.surprise * closeness(f.changed_at, start)
            found.append(Finding(s.query, dict(s.labels), f.changed_at, f.baseline, f.after, f.surprise, score,
                                 f.points))
    found.sort(key=lambda f: (-f.score, f.changed_at))
    return found[:limit]


def still_holds(finding_baseline: float, finding_after: float, current: float) -> bool:
    """Whether a current value still shows the effect: nearer the changed level than the baseline."""
    return abs(current - finding_after) < abs(current - finding_baseline)
