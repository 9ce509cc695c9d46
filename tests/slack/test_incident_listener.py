"""The `/incident` listener's error rendering: one error, the usage of the sub-command it concerns, no help."""

from __future__ import annotations

import pytest

from bot.incidents.commands import BUILTIN_REGISTRY, parse
from bot.incidents.domain import UsageError
from bot.slack.listeners.commands.incident import usage_error_text

SEVS = ["sev1", "sev2", "sev3"]


def _error(text: str) -> str:
    with pytest.raises(UsageError) as info:
        parse(text, SEVS)
    return usage_error_text(BUILTIN_REGISTRY, text, info.value)


def test_argument_errors_come_with_that_commands_usage_only():
    assert _error("status exploded") == (":warning: unknown status `exploded`; use one of investigating, identified, "
                                         "monitoring, resolved\nUsage: `/incident status investigating|identified|"
                                         "monitoring|resolved`")
    assert _error("lead bob").endswith("Usage: `/incident commander @user`")  # alias: the usage of its command


def test_typos_get_the_suggestion_and_nothing_else():
    assert _error("delcare sev1 x") == ":warning: unknown command `delcare`; did you mean `declare`?"


def test_user_text_in_errors_cannot_mention_anyone():
    assert "<!channel>" not in _error("<!channel>")
