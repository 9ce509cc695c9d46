"""People appear by name in postmortems: one cached `users.info` lookup per draft, the id when Slack cannot say."""

from __future__ import annotations

from bot.postmortems.domain import render_markdown
from bot.postmortems.store import NameResolver, load_facts_by_number, plain_text
from tests.conftest import ALICE, BOB


def _users_info_for(fake, user: str) -> int:
    return sum(1 for c in fake.attempts("users.info") if c.params.get("user") == user)


def test_responders_and_typed_mentions_render_as_names_looked_up_once(harness):
    h = harness
    channel = h.declare()
    h.command(f"role commander <@{ALICE}>", channel=channel, user=ALICE)
    h.fake.wait_for(lambda f: "commander: <@U0ALICE>" in f.channels[channel]["topic"])
    h.command(f"update Handing the rollback to <@{BOB}>, see <https://status.example.com|status> &amp; <@U0GONE>",
              channel=channel, user=ALICE)
    h.fake.wait_for(lambda f: any("Handing the rollback" in (c.params.get("text") or "")
                                  for c in f.calls_to("chat.postMessage")))
    h.command(f"followup Add a canary stage <@{BOB}>", channel=channel, user=ALICE)
    h.fake.wait_for(lambda f: any("Follow-up #1" in (c.params.get("text") or "") for c in f.calls_to("chat.postMessage")))
    before_alice, before_bob = _users_info_for(h.fake, ALICE), _users_info_for(h.fake, BOB)

    markdown = render_markdown(load_facts_by_number(h.ctx, 1))

    assert ALICE not in markdown and BOB not in markdown  # no raw ids for people Slack knows
    assert "Handing the rollback to @Bob, see status (https://status.example.com) & @U0GONE" in markdown
    assert "- **Commander**: Alice\n" in markdown and "- **Reporter**: Riley\n" in markdown
    assert "| Add a canary stage | Bob |" in markdown
    # Alice is commander, author of three entries and named in one: still one lookup for the whole draft.
    assert _users_info_for(h.fake, ALICE) - before_alice == 1
    assert _users_info_for(h.fake, BOB) - before_bob == 1


def test_without_slack_the_id_stands_in_and_is_cached():
    resolver = NameResolver(None)
    assert resolver("U0ANA") == "U0ANA" and resolver(None) is None
    assert resolver.cache == {"U0ANA": "U0ANA"}


def test_unknown_user_falls_back_to_the_id(fake_slack):
    from bot.slack.client import make_slack_client

    resolver = NameResolver(make_slack_client("xoxb-test", fake_slack.api_url))
    assert resolver(ALICE) == "Alice"
    assert resolver("U0GONE") == "U0GONE"  # users.info answers user_not_found


def test_plain_text_is_the_core_converter():
    # bot.core.mrkdwn drops the word joiner that defuses mentions; the postmortem must not carry it either.
    text = plain_text(f"<@{ALICE}> paged @\u2060channel about <#C0PAY|payments> at <!date^1714572000^{{time}}|14:00>",
                      {ALICE: "Alice"}.get)
    assert text == "@Alice paged @channel about #payments at 14:00"
