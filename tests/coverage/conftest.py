"""Coverage fixtures: a team with a rotation gap (both members away on the same day), a rotation whose only member
Slack does not know and who has no contact method, and a policy paging a person nobody can reach."""

from __future__ import annotations

import copy
from datetime import datetime, time, timedelta, timezone

import pytest

from bot.config import parse_config
from bot.server import build_context
from storage.types import utcnow
from tests.conftest import ALICE, ANNOUNCE, BOB, make_settings

PAY_CHANNEL = "C0PAYCOV"
SEARCH_CHANNEL = "C0SEARCHCOV"
NOMETHOD = "U0NOMETHOD"
GHOST = "U0GHOST"


def away_day():
    """The day both payments members are away (three days ahead, so inside the 14-day window)."""
    return utcnow().date() + timedelta(days=3)


def away_span() -> tuple[datetime, datetime]:
    day = away_day()
    start = datetime.combine(day, time(), tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def coverage_config() -> dict:
    day = away_day()
    away = [{"user": u, "start": str(day), "end": str(day + timedelta(days=1)), "reason": "offsite"}
            for u in (ALICE, BOB)]
    return copy.deepcopy({
        "admins": [ALICE],
        "incidents": {"announcements_channel": ANNOUNCE},
        "rotations": [
            {"name": "payments", "channel": PAY_CHANNEL, "shift": {"length": "1d", "handoff_time": "10:00"},
             "rules": {"planner": "greedy"}, "members": [{"user": ALICE}, {"user": BOB}], "unavailability": away},
            {"name": "search", "channel": SEARCH_CHANNEL, "shift": {"length": "1w"},
             "rules": {"planner": "greedy", "min_rest_shifts": 0}, "members": [{"user": NOMETHOD}]},
        ],
        "escalation_policies": [
            {"name": "payments", "steps": [{"notify": "rotation:payments", "timeout": "5m"}]},
            {"name": "ghost", "steps": [{"notify": f"user:{GHOST}", "timeout": "5m"}]},
        ],
    })


@pytest.fixture
def coverage_ctx(database_url, fake_slack):
    """Build (not start) Firewatch on the fake Slack with the coverage config (no scheduler)."""
    fake_slack.fake.add_channel(PAY_CHANNEL, "payments-oncall", members=["UFIREWATCH", ALICE, BOB])
    fake_slack.fake.add_channel(SEARCH_CHANNEL, "search-oncall", members=["UFIREWATCH"])
    settings = make_settings(database_url, fake_slack.api_url)
    ctx = build_context(settings, parse_config(coverage_config()))
    ctx.services.scheduler = None
    yield ctx
    ctx.engine.dispose()
