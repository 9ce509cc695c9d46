"""One mention pattern and one set of id checks (bot.core.mentions)."""

import pytest

from bot.core.mentions import (
    CHANNEL_MENTION,
    USER_MENTION,
    is_channel_id,
    is_user_id,
    is_usergroup_id,
    mention_user,
    mentioned_user,
    mentioned_users,
)


@pytest.mark.parametrize("value, ok", [("U0ALICE", True), ("W0123ABCD", True), ("U1", False), ("u0alice", False),
                                       ("C0123ABCD", False), ("U0AL ICE", False), ("<@U0ALICE>", False),
                                       ("U0ALICE\n", False), (None, False), (42, False)])
def test_is_user_id(value, ok):
    assert is_user_id(value) is ok


def test_channel_and_usergroup_ids():
    assert [is_channel_id(v) for v in ("C0INCIDENTS", "G0PRIVATE", "D0DM", "U0ALICE", "#incidents")] == [
        True, True, True, False, False]
    assert [is_usergroup_id(v) for v in ("S0PAYONCALL", "U0ALICE", "S1")] == [True, False, False]


def test_user_mention_with_and_without_label():
    assert mentioned_user("<@U0BOB>") == "U0BOB"
    assert mentioned_user("  <@U0BOB|bob>  ") == "U0BOB"
    assert mentioned_user("@bob") is None
    assert mentioned_user("<@U0BOB> and more") is None
    match = USER_MENTION.search("ask <@U0BOB|bob> now")
    assert match.groups() == ("U0BOB", "bob")


def test_mentioned_users_in_order_once_each():
    text = "<@U0CARA> pinged <@U0BOB|bob>, then <@U0CARA> again; not <@u0lower> nor <#C0CHAN>"
    assert mentioned_users(text) == ["U0CARA", "U0BOB"]


def test_channel_mention_keeps_the_label():
    assert CHANNEL_MENTION.search("see <#C0INCIDENTS|incidents>").groups() == ("C0INCIDENTS", "incidents")
    assert CHANNEL_MENTION.search("see <#C0INCIDENTS>").groups() == ("C0INCIDENTS", None)
    assert CHANNEL_MENTION.search("see <#C0INCIDENTS|>").groups() == ("C0INCIDENTS", "")


def test_mention_user_refuses_anything_but_an_id():
    assert mention_user("U0ALICE") == "<@U0ALICE>"
    for bad in ("<!channel>", "U0ALICE> <!here", "alice", ""):
        with pytest.raises(ValueError, match="not a Slack user id"):
            mention_user(bad)
