"""Slack date tokens (bot.core.slack_dates)."""

from datetime import datetime, timedelta, timezone

from bot.core.slack_dates import slack_date


def test_token_with_utc_fallback_whatever_the_zone():
    utc = datetime(2027, 3, 1, 12, 30, tzinfo=timezone.utc)
    berlin = utc.astimezone(timezone(timedelta(hours=1)))
    expected = f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} {{time}}|2027-03-01 12:30 UTC>"
    assert slack_date(utc) == expected
    assert slack_date(berlin) == expected
    assert slack_date(utc, "{date_short_pretty}") == f"<!date^{int(utc.timestamp())}^{{date_short_pretty}}|2027-03-01 12:30 UTC>"


def test_naive_datetimes_are_utc_not_the_hosts_zone():
    naive = datetime(2027, 3, 1, 12, 30)
    assert slack_date(naive) == slack_date(naive.replace(tzinfo=timezone.utc))
    assert slack_date(naive).endswith("|2027-03-01 12:30 UTC>")
