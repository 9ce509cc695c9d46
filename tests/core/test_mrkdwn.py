"""Slack mrkdwn to plain text: the one converter postmortems and the demo transcript share."""

from __future__ import annotations

from bot.core.mrkdwn import to_plain_text

NAMES = {"U0ANA": "Ana Lima"}


def test_mentions_links_dates_and_entities_become_readable_text():
    text = ("<@U0ANA> paged <@U0NOBODY> in <#C0PAY|payments> at <!date^1800000000^{time}|03:00 UTC>: "
            "see <https://grafana.example.com/d/1|the dashboard> and <https://x.example.com> &lt;5xx&gt; &amp; <!here>")
    plain = to_plain_text(text, NAMES.get)
    assert plain == ("@Ana Lima paged @U0NOBODY in #payments at 03:00 UTC: see the dashboard "
                     "(https://grafana.example.com/d/1) and https://x.example.com <5xx> & @here")


def test_channel_names_come_from_the_callers_lookup_and_word_joiners_are_dropped():
    plain = to_plain_text("<#C0PAY> <!subteam^S0SRE|@sre> @\u2060channel", NAMES.get,
                          lambda channel_id, label: f"#{channel_id.lower()}")
    assert plain == "#c0pay @sre @channel"
