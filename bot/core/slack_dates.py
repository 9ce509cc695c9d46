"""Times in Slack messages: a `<!date^…>` token, so each reader sees the time in their own zone."""

from __future__ import annotations

from datetime import datetime, timezone

DEFAULT_FORMAT = "{date_short_pretty} {time}"


def slack_date(moment: datetime, fmt: str = DEFAULT_FORMAT) -> str:
    """`<!date^UNIX^fmt|fallback>`; the fallback (shown where tokens are not rendered) is the time in UTC.

    A naive datetime is taken as UTC, the zone Firewatch stores every time in (not the host's local zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=timezone.utc)
    fallback = moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"
