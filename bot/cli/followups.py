"""`firewatch followups overdue`: open follow-ups past their `followups.sla`, oldest first (for digests and reviews)."""

from __future__ import annotations

import json
import sys

import click

from bot.cli.database import config_option, database_context


@click.group("followups")
def followups() -> None:
    """Incident follow-ups and their tracker issues."""


@followups.command("overdue")
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def followups_overdue(config_path: str | None, fmt: str) -> None:
    """List open follow-ups past their severity's SLA (private incidents left out); exit 1 if there are any."""
    from bot.followups.service import overdue_followups

    ctx = database_context(config_path)
    try:
        rows = overdue_followups(ctx)
    finally:
        ctx.engine.dispose()
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("no overdue follow-ups" if ctx.config.followups.sla else
                   "no overdue follow-ups (no `followups.sla` is configured, so none can be overdue)")
    for row in rows if fmt == "text" else []:
        owner = row["owner"] or "no owner"
        click.echo(f"#{row['id']}  {row['incident']}  open {row['age']}  {owner}  {row['text']}"
                   + (f"  {row['url']}" if row["url"] else ""))
    sys.exit(1 if rows else 0)


def attach(main: click.Group) -> None:
    main.add_command(followups)
