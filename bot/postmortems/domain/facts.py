"""Facts a postmortem is built from, and the hook through which the app supplies them.

Everything in `PostmortemFacts` comes from the incident record (times, timeline, roles, follow-ups, metrics), never
from a language model: the model may only draft narrative prose (see `render_markdown(narrative=...)`).

The app wires the database in with `set_facts_loader(fn)`; the CLI's `render` and `publish` commands call
`load_facts(number)`, which raises NotImplementedError until a loader is set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

FOLLOW_UP_TYPES = ("mitigate", "prevent", "process")


def as_utc(value: datetime | None) -> datetime | None:
    """Normalise to an aware UTC datetime. Naive values are taken to be UTC already (that is how the DB stores them)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass
class TimelineEntry:
    """One timeline event: a status/severity/role change, a pinned or flagged Slack message, an alert..."""

    at: datetime
    text: str
    author: str | None = None  # display name (or None for the bot / an alert)
    permalink: str | None = None  # Slack permalink of the message the event came from
    kind: str = "message"  # free-form: message, status, severity, role, alert, note...


@dataclass
class FollowUp:
    """An action item recorded during or after the incident."""

    text: str
    owner: str | None = None
    type: str | None = None  # mitigate | prevent | process (None: not triaged yet)
    link: str | None = None  # ticket URL
    done: bool = False

    def __post_init__(self) -> None:
        if self.type is not None:
            normalised = self.type.strip().lower()
            if normalised not in FOLLOW_UP_TYPES:
                raise ValueError(f"follow-up type {self.type!r} must be one of {', '.join(FOLLOW_UP_TYPES)}")
            self.type = normalised


@dataclass
class PostmortemFacts:
    """What the incident record says. Filled by the app from the database."""

    number: int
    title: str
    severity: str
    status: str  # incident status (e.g. resolved); the document's own status is always `draft`
    channel_prefix: str = "inc"
    started_at: datetime | None = None
    detected_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    services: list[str] = field(default_factory=list)
    responders: dict[str, list[str]] = field(default_factory=dict)  # role -> names, e.g. {"incident_commander": ["Alice"]}
    timeline: list[TimelineEntry] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)  # e.g. {"error_rate_peak": "12%", "orders_failed": 311}
    summary: str | None = None  # summary recorded in the incident channel, if any

    @property
    def incident_id(self) -> str:
        """Human id, e.g. `INC-42`."""
        return f"{self.channel_prefix.upper()}-{self.number}"

    @property
    def branch_name(self) -> str:
        """Git branch the postmortem is published on, e.g. `postmortem/inc-42`."""
        return f"postmortem/{self.channel_prefix.lower()}-{self.number}"

    def sorted_timeline(self) -> list[TimelineEntry]:
        """Timeline in chronological order (stable: events at the same instant keep their recorded order)."""
        return sorted(self.timeline, key=lambda e: as_utc(e.at))  # type: ignore[arg-type, return-value]


FactsLoader = Callable[[int], PostmortemFacts]


def _not_wired(number: int) -> PostmortemFacts:
    raise NotImplementedError("wired by the app")


_loader: FactsLoader = _not_wired


def set_facts_loader(fn: FactsLoader | None) -> FactsLoader:
    """Install the function that reads an incident's facts from the DB; None restores the unwired default.

    Returns the previous loader so callers (and tests) can restore it.
    """
    global _loader
    previous = _loader
    _loader = fn if fn is not None else _not_wired
    return previous


def load_facts(number: int) -> PostmortemFacts:
    """Facts for incident `number`, from the loader the app installed with `set_facts_loader`."""
    return _loader(number)
