"""The one registry of `/incident` sub-commands: name, aliases, usage, one-line help and handler.

The listener dispatches through it and `/incident help` is rendered from it, so help cannot drift from what
the bot accepts. Features' sub-commands (`ctx.services.incident_commands`) join it by name. Plain Python: no
Slack and no database, handlers are bound by `bot.incidents.service`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Callable

from bot.incidents.domain import Command, UsageError, parse_incident_command

Handler = Callable[..., None]


@dataclass(frozen=True)
class SubCommand:
    """One `/incident` sub-command. `in_channel` ones need an incident channel; hidden ones are internal names
    the parser produces (`declare_modal`, `timeline_show`) and never appear in help."""

    name: str
    usage: str
    help: str
    aliases: tuple[str, ...] = ()
    in_channel: bool = True
    hidden: bool = False
    handler: Handler | None = None


BUILTIN_COMMANDS: tuple[SubCommand, ...] = (
    SubCommand("declare", "declare [sevN] <title>", "declare at once (severity defaults to {default}); "
               "without a title, open the declare form", in_channel=False),
    SubCommand("declare_modal", "declare", "open the declare form", in_channel=False, hidden=True),
    SubCommand("list", "list", "open incidents", in_channel=False),
    SubCommand("help", "help", "this text", in_channel=False),
    SubCommand("repair", "repair [number]", "finish Slack set-up steps that failed", in_channel=False),
    SubCommand("status", "status investigating|identified|monitoring|resolved", "change the status"),
    SubCommand("sev", "sev <sevN>", "change the severity (`sev 1` works too)", aliases=("severity",)),
    SubCommand("role", "role commander|comms|scribe @user", "give a role (`ic`/`lead` mean commander)"),
    SubCommand("commander", "commander @user", "make someone the commander", aliases=("ic", "lead")),
    SubCommand("ack", "ack", "acknowledge: you are on it (stops the time-to-acknowledge clock)",
               aliases=("acknowledge",)),
    SubCommand("update", "update <text>", "post to the channel and announcements"),
    SubCommand("timeline", "timeline [<text>]", "show the timeline, or add a note to it"),
    SubCommand("timeline_show", "timeline", "show the timeline", hidden=True),
    SubCommand("followup", "followup [mitigate|prevent|process] <text> [@owner]", "record a follow-up",
               aliases=("follow-up",)),
    SubCommand("resolve", "resolve [summary]", "resolve the incident"),
    SubCommand("reopen", "reopen [reason]", "return a resolved incident to investigating"),
    SubCommand("triage", "triage", "suggestions with cited evidence"),
    SubCommand("rca", "rca", "root-cause suggestions with cited evidence"),
    SubCommand("postmortem", "postmortem [publish]", "draft (linted) and publish the postmortem"),
)


def _first_line(handler: Handler) -> str:
    doc = (getattr(handler, "__doc__", None) or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else "added by a feature"


class CommandRegistry:
    """Sub-commands by name and alias."""

    def __init__(self, commands: tuple[SubCommand, ...] | list[SubCommand]) -> None:
        self.commands = list(commands)
        self._by_word: dict[str, SubCommand] = {}
        for command in self.commands:
            for word in (command.name, *command.aliases):
                self._by_word[word] = command

    def bind(self, handlers: dict[str, Handler]) -> CommandRegistry:
        """A registry where `handlers` (built-in or a feature's, by name) replace or add sub-commands."""
        commands = list(self.commands)
        known = {c.name: i for i, c in enumerate(commands)}
        for name, handler in handlers.items():
            if name in known:
                commands[known[name]] = replace(commands[known[name]], handler=handler)
            else:
                commands.append(SubCommand(name, f"{name} [text]", _first_line(handler), handler=handler))
        return CommandRegistry(commands)

    def get(self, name: str) -> SubCommand | None:
        return self._by_word.get(name)

    def resolve(self, word: str) -> SubCommand:
        """The sub-command `word` names (name or alias); UsageError with the closest match for a typo."""
        command = self._by_word.get(word.lower())
        if command is not None and not command.hidden:
            return command
        visible = [w for w, c in self._by_word.items() if not c.hidden]
        close = difflib.get_close_matches(word.lower(), visible, n=1, cutoff=0.6)
        hint = f"; did you mean `{self._by_word[close[0]].name}`?" if close else "; see `/incident help`"
        raise UsageError(f"unknown command `{word[:40]}`{hint}")

    def usage_line(self, name: str) -> str:
        command = self.get(name)
        return f"Usage: `/incident {command.usage}`" if command else "See `/incident help`."

    def help_text(self, default_severity: str) -> str:
        """`/incident help`, one line per visible sub-command, in registry order."""
        lines = ["*`/incident` commands*"]
        for command in self.commands:
            if command.hidden:
                continue
            names = ", ".join(f"`{a}`" for a in command.aliases)
            aka = f" (also {names})" if names else ""
            where = "" if command.in_channel else " _(anywhere)_"
            lines.append(f"• `/incident {command.usage}` — {command.help.format(default=default_severity)}{aka}{where}")
        lines.append("Commands without _(anywhere)_ work in an incident channel. "
                     "Add a message to the timeline with a :pushpin: reaction.")
        return "\n".join(lines)


BUILTIN_REGISTRY = CommandRegistry(BUILTIN_COMMANDS)


def parse(text: str, severities: list[str], registry: CommandRegistry = BUILTIN_REGISTRY) -> Command:
    """Parse the text after `/incident` through the registry: aliases become their command, typos a suggestion,
    features' sub-commands get their text as `args["text"]`."""
    text = (text or "").strip()
    if not text:
        return Command("help")
    verb, _, rest = text.partition(" ")
    command = registry.resolve(verb)
    rest = rest.strip()
    if command.name == "commander":
        return parse_incident_command(f"role commander {rest}", severities)
    if command.name == "ack":
        return Command("ack")
    if command.name == "reopen":
        return Command("reopen", {"reason": rest or None})
    if command.name not in {c.name for c in BUILTIN_COMMANDS}:
        return Command(command.name, {"text": rest})
    return parse_incident_command(f"{command.name} {rest}", severities)
