"""`firewatch contacts check` (people without a working contact method) and `firewatch contacts attempts PAGE`."""

from __future__ import annotations

import sys

import click

from bot.cli.database import config_option, database_context


@click.group("contacts")
def contacts() -> None:
    """Contact methods (SMS, voice, push, email) and notification attempts."""


@contacts.command("check")
@config_option
def contacts_check(config_path: str | None) -> None:
    """List people in `contacts:` whose pages would reach them in Slack only (exit 1 if any)."""
    from bot.contacts.service import contact_problem

    ctx = database_context(config_path)
    problems = [p for p in (contact_problem(ctx, c.user) for c in ctx.config.contacts) if p]
    for problem in problems:
        click.echo(problem.replace("<@", "").replace(">", ""))
    if not problems:
        click.echo(f"{len(ctx.config.contacts)} people, each with a working contact method")
    ctx.engine.dispose()
    sys.exit(1 if problems else 0)


@contacts.command("attempts")
@click.argument("page_id", type=int)
@config_option
def contacts_attempts(page_id: int, config_path: str | None) -> None:
    """Every notification attempt for page PAGE_ID: time, person, method, result."""
    from bot.contacts.service import page_attempts

    ctx = database_context(config_path)
    rows = page_attempts(ctx, page_id)
    if not rows:
        click.echo(f"no notification attempts for page {page_id} (beyond its Slack DMs)")
    for a in rows:
        click.echo(f"{a.at:%Y-%m-%d %H:%M:%S} UTC  {a.user_id}  step {a.step_index}  {a.method} {a.address}  "
                   f"{a.result}  {a.detail}")
    ctx.engine.dispose()


def attach(main: click.Group) -> None:
    main.add_command(contacts, "contacts")
