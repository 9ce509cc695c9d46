"""A small PNG of the top findings: one sparkline per moved series, the incident start as a dashed line and the
change point as a dot. Rendered with matplotlib's Agg backend (no display), at a fixed pixel size."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # before pyplot: a server has no display

from matplotlib.figure import Figure  # noqa: E402

from bot.telemetry.domain.anomaly import Finding  # noqa: E402

WIDTH_PX, ROW_PX, DPI = 480, 90, 100
MAX_ROWS = 3


def size_for(rows: int) -> tuple[int, int]:
    """(width, height) in pixels of a PNG with `rows` sparklines."""
    return WIDTH_PX, ROW_PX * max(1, min(rows, MAX_ROWS))


def title_of(finding: Finding, limit: int = 70) -> str:
    labels = ",".join(f"{k}={v}" for k, v in sorted(finding.labels.items()))
    text = f"{finding.query} {{{labels}}}" if labels else finding.query
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(findings: list[Finding], start: float) -> bytes:
    """PNG bytes for the first three findings (each needs its points); the x axis is minutes from the start."""
    shown = [f for f in findings if f.points][:MAX_ROWS]
    width, height = size_for(len(shown))
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    axes = fig.subplots(len(shown) or 1, 1, squeeze=False)[:, 0]
    for ax, f in zip(axes, shown):
        xs = [(t - start) / 60 for t, _ in f.points]
        ax.plot(xs, [v for _, v in f.points], linewidth=1.0, color="#1f6feb")
        ax.axvline(0, linestyle="--", linewidth=0.8, color="#888888")
        ax.plot([(f.changed_at - start) / 60], [f.after], "o", markersize=3, color="#d1242f")
        ax.set_title(title_of(f), fontsize=6, loc="left", pad=2)
        ax.tick_params(labelsize=5, length=2, pad=1)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.88, bottom=0.14, hspace=0.9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
