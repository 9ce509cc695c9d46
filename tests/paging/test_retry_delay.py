"""A DM that Slack did not take is retried before its step times out, so the page never escalates past a person
who was only unlucky with Slack."""

from __future__ import annotations

from datetime import timedelta

from bot.paging.flows import RETRY_DELAY, retry_delay


def test_retry_comes_before_the_step_times_out():
    assert retry_delay(timedelta(seconds=3)) == timedelta(seconds=1.5)
    assert retry_delay(timedelta(minutes=30)) == RETRY_DELAY
    assert retry_delay(None) == RETRY_DELAY


def test_a_502_from_slack_is_retried(fake_slack):
    from bot.slack.client import make_slack_client
    from tests.conftest import BOT_TOKEN

    fake_slack.fake.fail("auth.test", status=502, times=1)
    client = make_slack_client(BOT_TOKEN, fake_slack.api_url)
    assert client.auth_test()["ok"] is True
    assert len([c for c in fake_slack.fake.calls if c.method == "auth.test"]) == 2
