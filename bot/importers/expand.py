"""Expand a vendor schedule into who was on call when, by the vendor's own rules (for the fairness audit).

PagerDuty, Opsgenie and Grafana OnCall all hand off at the same *local* time across a DST change: a daily
turn that spans the change is 23 or 25 hours long. Restrictions are local wall-clock windows too. Where
layers overlap the higher priority wins, and overrides win over every layer. Wall-clock times that do not
exist (spring forward) or happen twice (fall back) resolve as Firewatch's own grid does
(`bot.rotations.domain.timeline.resolve_wall_time`), so the two sides are compared on the same instants.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.importers.domain import Layer, Schedule, Window
from bot.rotations.domain.config import zone
from bot.rotations.domain.timeline import UTC, resolve_wall_time

Interval = tuple[str | None, datetime, datetime]  # (person key, start, end), UTC


def _instant(naive: datetime, tz_name: str) -> datetime:
    return resolve_wall_time(naive, zone(tz_name)).astimezone(UTC)


def _window_spans(window: Window, tz_name: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The window's occurrences (UTC) that overlap [start, end)."""
    tz = zone(tz_name)
    first_day = start.astimezone(tz).date() - timedelta(days=8)
    last_day = end.astimezone(tz).date()
    spans = []
    day = first_day
    while day <= last_day:
        if window.weekday is None or day.weekday() == window.weekday:
            local = datetime.combine(day, window.start)
            s, e = _instant(local, tz_name), _instant(local + window.duration, tz_name)
            if e > start and s < end:
                spans.append((max(s, start), min(e, end)))
        day += timedelta(days=1)
    return spans


def expand_layer(layer: Layer, start: datetime, end: datetime) -> list[Interval]:
    """The layer's turns over [start, end), cut to its restriction windows."""
    start, end = max(start, layer.start or start), min(end, layer.end or end)
    if end <= start or not layer.users:
        return []
    local_start = start.astimezone(zone(layer.timezone)).replace(tzinfo=None)
    k = (local_start - layer.anchor) // layer.step
    out: list[Interval] = []
    while True:
        turn_start = _instant(layer.anchor + k * layer.step, layer.timezone)
        turn_end = _instant(layer.anchor + (k + 1) * layer.step, layer.timezone)
        if turn_start >= end:
            break
        s, e = max(turn_start, start), min(turn_end, end)
        if e > s:
            user = layer.users[k % len(layer.users)]
            if not layer.windows:
                out.append((user, s, e))
            else:
                pieces = sorted(p for w in layer.windows for p in _window_spans(w, layer.timezone, s, e))
                out.extend((user, ps, pe) for ps, pe in _merge(pieces))
        k += 1
    return out


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def expand_schedule(schedule: Schedule, start: datetime, end: datetime) -> list[Interval]:
    """The final schedule over [start, end): per instant, the override, else the highest-priority layer."""
    # (priority, order) ranks each source; overrides rank above every layer.
    sources: list[tuple[tuple[int, int], list[Interval]]] = []
    layers = [] if schedule.recorded else schedule.layers
    for i, layer in enumerate(layers):
        sources.append(((layer.priority, i), expand_layer(layer, start, end)))
    top = max((layer.priority for layer in layers), default=0) + 1
    for i, item in enumerate(schedule.recorded + schedule.overrides):
        s, e = max(item.start, start), min(item.end, end)
        if e > s:
            sources.append(((top, i), [(item.user, s.astimezone(UTC), e.astimezone(UTC))]))
    cuts = sorted({t for _, spans in sources for _, s, e in spans for t in (s, e)})
    if not cuts:
        return []
    # Sweep the elementary segments; each source's intervals are sorted and disjoint, so walk them with cursors.
    cursors = [0] * len(sources)
    out: list[Interval] = []
    for seg_start, seg_end in zip(cuts, cuts[1:]):
        best: tuple[tuple[int, int], str | None] | None = None
        for n, (rank, spans) in enumerate(sources):
            while cursors[n] < len(spans) and spans[cursors[n]][2] <= seg_start:
                cursors[n] += 1
            if cursors[n] < len(spans) and spans[cursors[n]][1] <= seg_start and (best is None or rank > best[0]):
                best = (rank, spans[cursors[n]][0])
        if best is None or best[1] is None:
            continue
        if out and out[-1][0] == best[1] and out[-1][2] == seg_start:
            out[-1] = (best[1], out[-1][1], seg_end)
        else:
            out.append((best[1], seg_start, seg_end))
    return out


def handoffs(intervals: list[Interval], tz_name: str) -> list[str]:
    """Local handoff times as `YYYY-MM-DD HH:MM`, for tests and explanations."""
    tz = zone(tz_name)
    return [f"{s.astimezone(tz):%Y-%m-%d %H:%M}" for _, s, _ in intervals]


__all__ = ["Interval", "expand_layer", "expand_schedule", "handoffs"]
