"""The `/incident` sub-command registry: aliases, typo suggestions, features' commands and the help it renders."""

from __future__ import annotations

import re

import pytest

from bot.incidents.commands import BUILTIN_REGISTRY, parse
from bot.incidents.domain import TITLE_MAX, UsageError, shorten_title

SEVS = ["sev1", "sev2", "sev3", "sev4"]


@pytest.mark.parametrize("text, name, args", [
    ("ic <@U0A>", "role", {"role": "commander", "user": "U0A"}),
    ("lead <@U0A|alice>", "role", {"role": "commander", "user": "U0A"}),
    ("commander <@U0A>", "role", {"role": "commander", "user": "U0A"}),
    ("severity sev 1", "sev", {"severity": "sev1"}),
    ("ack", "ack", {}),
    ("ACK", "ack", {}),
    ("reopen", "reopen", {"reason": None}),
    ("reopen errors are back", "reopen", {"reason": "errors are back"}),
    ("follow-up Add a canary", "followup", {"text": "Add a canary", "owner": None, "kind": "prevent"}),
    ("triage now", "triage", {"text": "now"}),
])
def test_aliases_resolve_to_their_command(text, name, args):
    cmd = parse(text, SEVS)
    assert (cmd.name, cmd.args) == (name, args)


@pytest.mark.parametrize("text, message", [
    ("delcare sev1 Payments", "unknown command `delcare`; did you mean `declare`?"),
    ("stauts monitoring", "did you mean `status`?"),
    ("reopn", "did you mean `reopen`?"),
    ("xyzzy", "unknown command `xyzzy`; see `/incident help`"),
    ("timeline_show", "unknown command `timeline_show`"),  # internal names cannot be typed
])
def test_typos_get_one_error_with_a_suggestion(text, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse(text, SEVS)


def test_features_commands_join_the_registry_and_the_help():
    def catchup(ctx, incident, cmd, user, respond):
        """What happened so far, for someone joining."""

    registry = BUILTIN_REGISTRY.bind({"catchup": catchup})
    assert parse("catchup me please", SEVS, registry).args == {"text": "me please"}
    assert "did you mean `catchup`" in str(pytest.raises(UsageError, parse, "catchpu", SEVS, registry).value)
    help_text = registry.help_text("sev3")
    assert "• `/incident catchup [text]` — What happened so far, for someone joining" in help_text
    with pytest.raises(UsageError):
        parse("catchup", SEVS)  # unknown without the feature


def test_help_lists_every_visible_command_once_and_nothing_hidden():
    help_text = BUILTIN_REGISTRY.help_text("sev3")
    visible = [c for c in BUILTIN_REGISTRY.commands if not c.hidden]
    for command in visible:
        assert help_text.count(f"`/incident {command.usage}`") == 1, command.name
    assert "declare_modal" not in help_text and "timeline_show" not in help_text
    assert "severity defaults to sev3" in help_text
    assert "(also `ic`, `lead`)" in help_text


def test_every_help_line_parses_as_its_command():
    """Help cannot drift: the usage shown for each command is accepted by the parser as that command."""
    examples = {"declare": "declare sev1 Checkout down", "role": "role commander <@U0A>", "sev": "sev sev2",
                "status": "status monitoring", "commander": "commander <@U0A>", "update": "update text",
                "followup": "followup prevent text", "repair": "repair 3"}
    for command in BUILTIN_REGISTRY.commands:
        if command.hidden:
            continue
        text = examples.get(command.name, command.usage.split()[0])
        parsed = parse(text, SEVS)
        assert parsed.name in (command.name, "role", "timeline_show", "declare_modal"), (command.name, parsed)


def test_long_titles_are_shortened_at_a_word():
    title = "Checkout API returning 500s for every customer in the EU region " * 4
    short = shorten_title(title)
    assert len(short) <= TITLE_MAX and short.endswith("…")
    assert " ".join(title.split()).startswith(short[:-1])
    assert shorten_title("Short title") == "Short title"
