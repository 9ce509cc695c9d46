"""The incident rules in plain Python: command grammar, channel names, metrics and Slack date tokens."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from bot.incidents.domain import (
    UsageError,
    channel_name,
    compute_metrics,
    first_link,
    parse_incident_command,
    topic_text,
)
from bot.core.durations import format_duration
from bot.core.slack_dates import slack_date

SEVS = ["sev1", "sev2", "sev3", "sev4"]


def test_channel_names_follow_slacks_rules():
    assert channel_name("inc", 7, "Checkout API returning 500s!") == "inc-7-checkout-api-returning-500s"
    assert channel_name("inc", 7, "Checkout API", attempt=3) == "inc-7-checkout-api-3"
    assert channel_name("inc", 12, "Café façade — ünïcode") == "inc-12-cafe-facade-unicode"
    assert channel_name("inc", 5, "!!!") == "inc-5"
    long = channel_name("incident", 123456, "word " * 60, attempt=10)
    assert len(long) <= 80 and long.endswith("-10") and re.fullmatch(r"[a-z0-9_-]+", long)
    assert not long.rstrip("-10").endswith("-")


@pytest.mark.parametrize("text, name, args", [
    ("", "help", {}),
    ("declare", "declare_modal", {}),
    ("declare sev1 Payments down", "declare", {"severity": "sev1", "title": "Payments down"}),
    ("declare Payments down", "declare", {"severity": None, "title": "Payments down"}),
    ("status Monitoring", "status", {"status": "monitoring"}),
    ("sev SEV2", "sev", {"severity": "sev2"}),
    ("role comms <@U0ALICE|alice>", "role", {"role": "comms", "user": "U0ALICE"}),
    ("followup Add a canary stage <@U0BOB>", "followup", {"text": "Add a canary stage", "owner": "U0BOB", "kind": "prevent"}),
    ("followup mitigate Raise the pool size", "followup", {"text": "Raise the pool size", "owner": None, "kind": "mitigate"}),
    ("followup process", "followup", {"text": "process", "owner": None, "kind": "prevent"}),
    ("timeline", "timeline_show", {}),
    ("resolve", "resolve", {"summary": None}),
    ("repair #12", "repair", {"number": 12}),
    ("declare " + "x" * 200, "declare", {"severity": None, "title": "x" * 200}),  # shortened by the service
    ("role lead <@U0A>", "role", {"role": "commander", "user": "U0A"}),
    ("role IC <@U0A>", "role", {"role": "commander", "user": "U0A"}),
    ("sev sev 1", "sev", {"severity": "sev1"}),
    ("sev 2", "sev", {"severity": "sev2"}),
    ("declare sev 1 Payments down", "declare", {"severity": "sev1", "title": "Payments down"}),
])
def test_commands_parse(text, name, args):
    cmd = parse_incident_command(text, SEVS)
    assert (cmd.name, cmd.args) == (name, args)


@pytest.mark.parametrize("text, message", [
    ("declare sev9 Broken", "unknown severity `sev9`"),
    ("declare sev1", "a title is needed"),
    ("status done", "unknown status `done`"),
    ("role boss <@U0A>", "unknown role `boss`"),
    ("role scribe bob", "@mention"),
    ("followup <@U0BOB>", "text is needed before the owner"),
    ("repair twelve", "takes an incident number"),
    ("dance", "unknown command `dance`"),
])
def test_malformed_commands_say_what_is_wrong(text, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_incident_command(text, SEVS)


def test_first_link_reads_slack_wrapped_and_bare_urls():
    assert first_link("see <https://tickets.example.com/OPS-42|OPS-42> please") == "https://tickets.example.com/OPS-42"
    assert first_link("runbook https://runbooks.example.com/x then") == "https://runbooks.example.com/x"
    assert first_link("no link here") is None


def test_metrics_and_durations():
    t0 = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)
    m = compute_metrics(t0, t0 + timedelta(minutes=4, seconds=10), t0 + timedelta(hours=1, minutes=5), None)
    assert (m.time_to_acknowledge, m.time_to_mitigate, m.time_to_resolve) == (250.0, 3900.0, None)
    assert [format_duration(x) for x in (m.time_to_acknowledge, m.time_to_mitigate, None, 90061)] == [
        "4m 10s", "1h 5m", "—", "1d 1h 1m 1s"]


def test_slack_dates_and_topic():
    t = datetime(2027, 3, 1, 12, 30, tzinfo=timezone.utc)
    assert slack_date(t) == f"<!date^{int(t.timestamp())}^{{date_short_pretty}} {{time}}|2027-03-01 12:30 UTC>"
    assert topic_text("sev1", "identified", None) == "SEV1 · identified · commander: no commander yet"
    assert len(topic_text("sev1", "identified", "U" + "X" * 400)) == 250
