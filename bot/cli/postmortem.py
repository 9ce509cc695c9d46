"""`firewatch postmortem ...` commands (a click group the app attaches to the `firewatch` CLI).

    firewatch postmortem lint FILE [--format text|json] [--rules EXTRA.yaml]   exit 0 clean, 1 findings, 2 error
    firewatch postmortem render NUMBER [--narrative FILE.yaml] [-o OUT]        print (or write) the draft
    firewatch postmortem publish NUMBER [--workdir DIR]                        publish per `postmortems:` config

`render` and `publish` read the incident through `bot.postmortems.domain.facts.load_facts`, which the app wires to the
database with `set_facts_loader`. Run from a shell (no loader wired), they read the database `firewatch serve`
uses ($FIREWATCH_DATABASE_URL, default `sqlite:///./firewatch.db`) through `bot.cli.postmortem_backend`; `publish` then
also stores the draft and the result in the incident's postmortem record, like `/incident postmortem publish`.
The configuration comes from `--config`, else a FirewatchConfig the parent command put in `ctx.obj` (directly or
as `ctx.obj.config`), else $FIREWATCH_CONFIG or ./firewatch.yaml.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from bot.postmortems.domain import facts as facts_module
from bot.postmortems.domain.config import PostmortemsConfig
from bot.postmortems.domain.linter import RulesError, default_rules, lint, load_rules
from bot.postmortems.publishing import PublishError, publish
from bot.postmortems.domain.render import render_markdown


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _firewatch_config(ctx: click.Context, config_path: str | None) -> Any:
    """The whole FirewatchConfig (the database backend also needs the incident settings, e.g. the channel prefix)."""
    # Imported here: bot.config imports this package's config module, and the CLI should not create a cycle.
    from bot.config import ConfigError, FirewatchConfig, load_config

    if config_path is None:
        obj = ctx.find_object(FirewatchConfig)
        if obj is None and ctx.obj is not None and isinstance(getattr(ctx.obj, "config", None), FirewatchConfig):
            obj = ctx.obj.config
        if obj is not None:
            return obj
    explicit = config_path or os.environ.get("FIREWATCH_CONFIG")
    try:
        # Only the implicit ./firewatch.yaml may be absent (defaults); a named file must exist.
        return load_config(explicit or "firewatch.yaml", missing_ok=not explicit)
    except ConfigError as exc:
        _fail("\n".join([f"{exc.path}:"] + [f"  {p}" for p in exc.problems]))
        raise AssertionError("unreachable")


def _database_backend() -> Any:
    """`bot.cli.postmortem_backend` when no loader is wired: the database `firewatch serve` uses, from
    $FIREWATCH_DATABASE_URL or the same default (`sqlite:///./firewatch.db`)."""
    if facts_module._loader is not facts_module._not_wired:
        return None
    try:
        from bot.cli import postmortem_backend as cli_backend
    except ImportError:
        return None
    return cli_backend


def _stored_narrative(number: int, config: Any) -> dict[str, str]:
    """The narrative stored with the draft in the database, or {} without one."""
    cli_backend = _database_backend()
    if cli_backend is None and os.environ.get("FIREWATCH_DATABASE_URL"):
        from bot.cli import postmortem_backend as cli_backend
    if cli_backend is None:
        return {}
    try:
        return cli_backend.stored_narrative(number, config)
    except cli_backend.BackendError as exc:
        _fail(str(exc))
        return {}


def _load(number: int, config: Any = None) -> Any:
    backend = _database_backend() if config is not None else None
    try:
        if backend is not None:
            return backend.load_facts(number, config)
        # Looked up on the module at call time, so a loader installed after import is used.
        return facts_module.load_facts(number)
    except NotImplementedError:
        _fail(f"incident {number} cannot be read: Firewatch's database is not wired to this command; set "
              "FIREWATCH_DATABASE_URL to the database `firewatch serve` uses")
    except LookupError as exc:
        _fail(f"incident {number} not found ({exc})")
    except Exception as exc:  # noqa: BLE001 - e.g. the backend's BackendError: say what is wrong, exit 2
        if backend is not None and isinstance(exc, backend.BackendError):
            _fail(str(exc))
        raise


@click.group("postmortem")
def postmortem() -> None:
    """Blameless postmortems: draft, lint and publish."""


@postmortem.command("lint")
@click.argument("file", type=str)  # read by the command itself so every read failure gets the same exit code 2
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--rules", "rules_files", multiple=True, type=click.Path(dir_okay=False), help="Extra rules file (repeatable).")
def lint_command(file: str, fmt: str, rules_files: tuple[str, ...]) -> None:
    """Check FILE for blaming language. Exit 1 when there are findings, 0 when clean, 2 on errors."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"cannot read {file}: no such file")
    except IsADirectoryError:
        _fail(f"cannot read {file}: is a directory")
    except PermissionError:
        _fail(f"cannot read {file}: permission denied")
    except UnicodeDecodeError:
        _fail(f"cannot read {file}: not UTF-8 text")
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")
    try:
        rules = load_rules(list(rules_files)) if rules_files else default_rules()
    except RulesError as exc:
        _fail(str(exc))
    findings = lint(text, rules)
    if fmt == "json":
        click.echo(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            click.echo(finding.format(file))
    sys.exit(1 if findings else 0)


@postmortem.command("render")
@click.argument("number", type=int)
@click.option("--narrative", type=click.Path(dir_okay=False, exists=True), help="YAML mapping of section -> draft text.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="firewatch.yaml to use.")
@click.pass_context
def render_command(ctx: click.Context, number: int, narrative: str | None, output: str | None, config_path: str | None) -> None:
    """Print the postmortem draft for incident NUMBER."""
    full_config = _firewatch_config(ctx, config_path)
    config = full_config.postmortems
    narrative_data: dict[str, str] | None = None
    if narrative:
        try:
            narrative_data = yaml.safe_load(Path(narrative).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            _fail(f"cannot read narrative {narrative}: {exc}")
        if not isinstance(narrative_data, dict):
            _fail(f"{narrative}: narrative must be a YAML mapping of section name -> text")
    facts = _load(number, full_config)
    if narrative_data is None:
        # The narrative the model drafted in Slack (stored with the draft), so render shows what publish will.
        narrative_data = _stored_narrative(number, full_config) or None
    try:
        text = render_markdown(facts, narrative_data, template=config.template)
    except ValueError as exc:
        _fail(str(exc))
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@postmortem.command("publish")
@click.argument("number", type=int)
@click.option("--workdir", type=click.Path(file_okay=False), help="Cached clone to reuse (default: postmortems.workdir).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="firewatch.yaml to use.")
@click.pass_context
def publish_command(ctx: click.Context, number: int, workdir: str | None, config_path: str | None) -> None:
    """Render incident NUMBER's postmortem and publish it to the configured repository."""
    full_config = _firewatch_config(ctx, config_path)
    config = full_config.postmortems
    facts = _load(number, full_config)
    backend = _database_backend()
    try:
        text = render_markdown(facts, template=config.template)
    except ValueError as exc:
        _fail(str(exc))
    try:
        if backend is not None:
            # From the database: the draft and the outcome are stored in the postmortem record, as from Slack.
            result = backend.publish(number, full_config, workdir).result
        else:
            result = publish(config, facts, text, workdir)
    except PublishError as exc:
        for finding in exc.findings:
            click.echo(finding.format(_path_hint(config, facts)), err=True)
        _fail(str(exc), code=1)
    for finding in result.findings:
        click.echo(finding.format(result.path), err=True)
    state = "pushed" if result.pushed else "unchanged"
    click.echo(f"{facts.incident_id}: {result.path} on {result.branch} @ {result.commit_sha[:12]} ({state})")
    if result.pr_url:
        click.echo(f"pull request: {result.pr_url}")


def _path_hint(config: PostmortemsConfig, facts: Any) -> str:
    """Document path for messages, falling back to the incident id when the path cannot be computed."""
    from bot.postmortems.domain.render import document_path

    try:
        return document_path(config, facts)
    except ValueError:
        return facts.incident_id
