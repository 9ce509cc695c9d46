"""The one slug function (bot.core.slugs), with both callers' lengths."""

import pytest

from bot.core.slugs import slugify
from bot.incidents.domain import channel_name
from bot.postmortems.domain.render import slug as postmortem_slug


@pytest.mark.parametrize("text, max_length, expected", [
    ("Checkout API returning 500s", 80, "checkout-api-returning-500s"),
    ("Café déjà vu: Zoë's DB", 80, "cafe-deja-vu-zoes-db"),
    ("don't `panic`", 80, "dont-panic"),
    ("  --Hello,   World!--  ", 80, "hello-world"),
    ("a" * 80, 60, "a" * 60),
    ("word " * 20, 60, "-".join(["word"] * 12)),
    ("alpha beta", 10, "alpha-beta"),  # exactly at the limit: the last word is kept
    ("alpha betas", 10, "alpha"),
    ("🔥🔥🔥", 60, ""),
    ("anything", 0, ""),
])
def test_slugify(text, max_length, expected):
    assert slugify(text, max_length) == expected
    assert len(slugify(text, max_length)) <= max(max_length, 0)


def test_fallback_when_nothing_is_left():
    assert slugify("🔥🔥🔥", 60, fallback="incident") == "incident"
    assert slugify("ok", 60, fallback="incident") == "ok"


def test_callers_keep_their_lengths():
    title = "Payments " * 20
    assert len(postmortem_slug(title)) <= 60 and postmortem_slug(title).startswith("payments-payments")
    assert postmortem_slug("🔥") == "incident"
    name = channel_name("inc", 12, title)
    assert len(name) <= 80 and name.startswith("inc-12-payments-payments")
    assert channel_name("inc", 12, "🔥") == "inc-12"
