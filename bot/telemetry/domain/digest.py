"""What the pinned incident summary and the weekly SLO digest say about an SLO, and when the digest runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

DIGEST_WEEKDAY = 0  # Monday
DIGEST_HOUR = 9  # 09:00 UTC

STATUS_EMOJI = {"ok": ":large_green_circle:", "slow burn": ":large_orange_circle:", "fast burn": ":red_circle:"}


def next_digest_at(now: datetime) -> datetime:
    """The first Monday 09:00 UTC strictly after `now` (aware)."""
    now = now.astimezone(timezone.utc)
    at = now.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    at += timedelta(days=(DIGEST_WEEKDAY - at.weekday()) % 7)
    return at if at > now else at + timedelta(days=7)


def summary_line(name: str, remaining: float, burn_1h: float) -> str:
    """`Error budget: checkout-availability 60% left · burning 20× (1 h)` (an overspent budget says so)."""
    left = f"{remaining:.0%} left" if remaining >= 0 else f"overspent by {-remaining:.0%}"
    return f"Error budget: {name} {left} · burning {burn_1h:.0f}× (1 h)"


def digest_line(name: str, service: str | None, objective: float, window_days: int, remaining: float | None,
                rates: dict[str, float] | None, status: str | None, error: str | None = None) -> str:
    """One SLO in the weekly digest (mrkdwn)."""
    head = f"*{name}* ({service or 'no service'} · {objective:.3%} over {window_days} d)"
    if error or remaining is None or rates is None or status is None:
        return f":grey_question: {head}: unavailable: {error or 'no data'}"
    left = f"{remaining:.0%} of the budget left" if remaining >= 0 else f"budget overspent by {-remaining:.0%}"
    burn = ", ".join(f"{w} {rates[w]:.1f}×" for w in ("1h", "5m", "6h", "30m") if w in rates)
    return f"{STATUS_EMOJI.get(status, '')} {head}: {left} · burn {burn} · {status}".strip()
