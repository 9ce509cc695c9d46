"""Change events (deploys, config pushes) received on `POST /webhooks/changes`, and their selection as evidence."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from bot.assist.domain.models import EvidenceItem

DEFAULT_WINDOW_HOURS = 6


class ChangeEvent(BaseModel):
    """Body of `POST /webhooks/changes`. The timestamp must carry a timezone (naive times are ambiguous)."""

    # CI systems tend to send extra fields; ignore them rather than reject the deploy notification.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    service: str = Field(min_length=1, max_length=100)
    version: str = Field(default="", max_length=200)
    author: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=4000)
    timestamp: AwareDatetime
    url: str | None = Field(default=None, max_length=2000)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.lower().startswith(("https://", "http://")) or any(c.isspace() for c in value):
            raise ValueError("url must be an http(s) URL without spaces")
        return value


def select_changes(
    changes: Iterable[ChangeEvent],
    services: Sequence[str] | None,
    incident_start: datetime,
    hours: float = DEFAULT_WINDOW_HOURS,
    limit: int = 10,
) -> list[ChangeEvent]:
    """Changes to `services` in the `hours` before `incident_start` (inclusive), most recent first.

    With no affected services known yet (None or empty), changes to any service in the window are returned.
    A naive `incident_start` is taken as UTC.
    """
    start = incident_start if incident_start.tzinfo else incident_start.replace(tzinfo=timezone.utc)
    since = start - timedelta(hours=hours)
    wanted = {s.strip().lower() for s in services or [] if s.strip()}
    picked = [
        c for c in changes if since <= c.timestamp <= start and (not wanted or c.service.lower() in wanted)
    ]
    picked.sort(key=lambda c: c.timestamp, reverse=True)
    return picked[:limit]


def changes_as_evidence(changes: Sequence[ChangeEvent], start: int = 1) -> list[EvidenceItem]:
    """Evidence items (kind `change`) numbered from E<start>."""
    items = []
    for n, c in enumerate(changes, start=start):
        head = f"Change to {c.service}" + (f" version {c.version}" if c.version else "") + (f" by {c.author}" if c.author else "")
        items.append(
            EvidenceItem(
                id=f"E{n}",
                kind="change",
                text=f"{head} at {c.timestamp.isoformat()}" + (f": {c.description}" if c.description else ""),
                url=c.url,
                time=c.timestamp,
                labels={"service": c.service},
            )
        )
    return items
