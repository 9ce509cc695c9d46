"""`/oncall contact ...`: parse, call the service, render (registered as `oncall_commands["contact"]`)."""

from __future__ import annotations

from bot.contacts import messages, service
from bot.context import AppContext

KINDS = ("sms", "voice", "email", "push")


def handle(ctx: AppContext, user: str, text: str, respond) -> None:
    """`(ctx, user, text, respond)`: `text` is everything after `contact`."""
    words = text.split()
    action = words[0].lower() if words else "list"
    if action == "add":
        body = _add(ctx, user, words[1:])
    elif action == "list":
        body = messages.list_blocks(user, service.list_methods(ctx, user), service.plan_for(ctx, user))
    elif action == "remove":
        body = _remove(ctx, user, words[1:])
    elif action == "test":
        body = messages.test_blocks(service.test_methods(ctx, user))
    else:
        body = messages.reply(f"I don't know `contact {words[0]}`; try {messages.USAGE}.")
    text_out, blocks = body
    respond(response_type="ephemeral", text=text_out, blocks=blocks)


def _add(ctx: AppContext, user: str, args: list[str]):
    if len(args) != 2 or args[0].lower() not in KINDS:
        return messages.reply("Usage: `/oncall contact add sms +447700900123` (or voice, email, push with an "
                              "address or URL).")
    # Slack wraps URLs, emails and phone numbers in <...|...> when it auto-links them.
    address = args[1].strip("<>").split("|")[0].removeprefix("mailto:").removeprefix("tel:")
    _ok, text = service.add_method(ctx, user, args[0].lower(), address)
    return messages.reply(text)


def _remove(ctx: AppContext, user: str, args: list[str]):
    if len(args) != 1 or not args[0].isdigit():
        return messages.reply("Usage: `/oncall contact remove <number>`; `/oncall contact list` shows the numbers.")
    _ok, text = service.remove_method(ctx, user, int(args[0]))
    return messages.reply(text)
