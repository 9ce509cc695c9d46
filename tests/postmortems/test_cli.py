"""`firewatch postmortem` click group: lint exit codes and formats, render/publish through the facts loader."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from bot.postmortems.domain import facts as facts_module
from bot.cli.postmortem import postmortem
from bot.postmortems.domain.facts import set_facts_loader
from bot.postmortems.domain.render import split_front_matter
from storage.db import upgrade
from tests.postmortems.conftest import TITLE, git, make_facts, show


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_group_is_named_postmortem():
    assert isinstance(postmortem, click.Group) and postmortem.name == "postmortem"
    assert {"lint", "render", "publish"} <= set(postmortem.commands)


def test_lint_clean_exits_0(runner, tmp_path):
    doc = tmp_path / "pm.md"
    doc.write_text("The pipeline rolled back the deploy.\n", encoding="utf-8")
    result = runner.invoke(postmortem, ["lint", str(doc)])
    assert result.exit_code == 0
    assert result.output == ""


def test_lint_findings_text_format_exits_1(runner, tmp_path):
    doc = tmp_path / "pm.md"
    doc.write_text("# Impact\n\nthe deploy should have been rolled back automatically by the pipeline\n", encoding="utf-8")
    result = runner.invoke(postmortem, ["lint", str(doc)])
    assert result.exit_code == 1
    line = result.output.strip()
    assert line.startswith(f"{doc}:3:12: counterfactual-should-have should have been — ")
    assert line.endswith('Try: "was not".')


def test_lint_json_format(runner, tmp_path):
    doc = tmp_path / "pm.md"
    doc.write_text("Bob broke it.\n`failed to` is quoted\n", encoding="utf-8")
    result = runner.invoke(postmortem, ["lint", str(doc), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data == [
        {
            "line": 1, "column": 1, "end_line": 1, "end_column": 9, "rule": "person-named-cause",
            "phrase": "Bob broke", "message": data[0]["message"], "suggestion": data[0]["suggestion"],
            "rewrite": None, "category": "blame",
        }
    ]


def test_lint_json_clean_is_empty_list(runner, tmp_path):
    doc = tmp_path / "pm.md"
    doc.write_text("All good.\n", encoding="utf-8")
    result = runner.invoke(postmortem, ["lint", str(doc), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.output) == []


def test_lint_extra_rules(runner, tmp_path):
    doc = tmp_path / "pm.md"
    doc.write_text("A heroic save.\n", encoding="utf-8")
    rules = tmp_path / "extra.yaml"
    rules.write_text("rules:\n  - {id: heroics, pattern: 'heroic', message: m, suggestion: s}\n", encoding="utf-8")
    assert runner.invoke(postmortem, ["lint", str(doc)]).exit_code == 0
    result = runner.invoke(postmortem, ["lint", str(doc), "--rules", str(rules)])
    assert result.exit_code == 1 and "heroics heroic — s" in result.output


def test_lint_stdin(runner):
    result = runner.invoke(postmortem, ["lint", "-"], input="Obviously it broke.\n")
    assert result.exit_code == 1 and result.output.startswith("-:1:1: hindsight Obviously")


@pytest.mark.parametrize("kind", ["missing", "directory", "binary"])
def test_lint_unreadable_file_exits_2(runner, tmp_path, kind):
    target = tmp_path / "pm.md"
    if kind == "directory":
        target.mkdir()
    elif kind == "binary":
        target.write_bytes(b"\xff\xfe\x00bad")
    result = runner.invoke(postmortem, ["lint", str(target)])
    assert result.exit_code == 2
    assert f"error: cannot read {target}" in result.output


def test_lint_invalid_rules_file_exits_2(runner, tmp_path):
    doc = tmp_path / "pm.md"
    doc.write_text("ok\n")
    rules = tmp_path / "bad.yaml"
    rules.write_text("rules:\n  - {id: x, pattern: '(', message: m, suggestion: s}\n")
    result = runner.invoke(postmortem, ["lint", str(doc), "--rules", str(rules)])
    assert result.exit_code == 2 and "invalid pattern" in result.output


def test_facts_hook_defaults_to_not_wired():
    with pytest.raises(NotImplementedError, match="wired by the app"):
        facts_module.load_facts(42)


@pytest.fixture
def empty_config(tmp_path):
    path = tmp_path / "firewatch.yaml"
    path.write_text("", encoding="utf-8")
    return str(path)


def test_render_without_loader_reads_the_serve_default_database(runner, empty_config, tmp_path, monkeypatch):
    # Before: "set FIREWATCH_DATABASE_URL" even though `firewatch serve` had a default. Now the same default.
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(postmortem, ["render", "42", "--config", empty_config])
    assert result.exit_code == 2
    assert "sqlite:///./firewatch.db: no such database file" in result.output and "firewatch serve" in result.output
    upgrade("sqlite:///./firewatch.db")
    result = runner.invoke(postmortem, ["render", "42", "--config", empty_config])
    assert result.exit_code == 2 and "incident 42 not found" in result.output, result.output


def test_render_prints_draft_from_loader(runner, tmp_path, monkeypatch):
    asked: list[int] = []

    def loader(number: int):
        asked.append(number)
        return make_facts(number=number)

    set_facts_loader(loader)
    narrative = tmp_path / "narrative.yaml"
    narrative.write_text("what went well: The rollback took three minutes.\n", encoding="utf-8")
    # No --config and no $FIREWATCH_CONFIG: ./firewatch.yaml is optional (defaults when absent).
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(postmortem, ["render", "42", "--narrative", str(narrative)], env={"FIREWATCH_CONFIG": None})
    assert result.exit_code == 0, result.output
    assert asked == [42]
    meta, body = split_front_matter(result.output)
    assert meta["title"] == TITLE and meta["status"] == "draft"
    assert "The rollback took three minutes." in body


def test_render_unknown_incident(runner, empty_config):
    def loader(number: int):
        raise LookupError(f"no incident {number}")

    set_facts_loader(loader)
    result = runner.invoke(postmortem, ["render", "9", "--config", empty_config])
    assert result.exit_code == 2 and "incident 9 not found" in result.output


def test_publish_command(runner, remote, tmp_path):
    config = tmp_path / "firewatch.yaml"
    config.write_text(f"postmortems:\n  repo: {remote}\n  branch: main\n", encoding="utf-8")
    set_facts_loader(lambda number: make_facts(number=number))
    result = runner.invoke(postmortem, ["publish", "42", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "INC-42: postmortems/2024/0042-" in result.output and "(pushed)" in result.output
    path = result.output.split(": ", 1)[1].split(" on ")[0]
    meta, _ = split_front_matter(show(remote, "postmortem/inc-42", path))
    assert meta["incident"] == 42

    again = runner.invoke(postmortem, ["publish", "42", "--config", str(config)])
    assert again.exit_code == 0 and "(unchanged)" in again.output


def test_publish_uses_config_from_parent_context(runner, remote):
    from bot.config import parse_config

    @click.group()
    @click.pass_context
    def firewatch(ctx: click.Context) -> None:
        ctx.obj = parse_config({"postmortems": {"repo": str(remote)}})

    firewatch.add_command(postmortem)
    set_facts_loader(lambda number: make_facts(number=number))
    result = runner.invoke(firewatch, ["postmortem", "publish", "42"])
    assert result.exit_code == 0, result.output
    assert git("--git-dir", str(remote), "branch", "--list", "postmortem/inc-42").strip()


def test_missing_named_config_exits_2(runner, tmp_path):
    set_facts_loader(lambda number: make_facts(number=number))
    result = runner.invoke(postmortem, ["render", "42", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2 and "not found" in result.output


def test_publish_failure_exits_1(runner, tmp_path):
    config = tmp_path / "firewatch.yaml"
    config.write_text(f"postmortems:\n  repo: {tmp_path / 'missing.git'}\n", encoding="utf-8")
    set_facts_loader(lambda number: make_facts(number=number))
    result = runner.invoke(postmortem, ["publish", "42", "--config", str(config)])
    assert result.exit_code == 1 and "error: cloning" in result.output


def test_invalid_config_exits_2(runner, tmp_path):
    config = tmp_path / "firewatch.yaml"
    config.write_text("postmortems:\n  mode: pull-request\n", encoding="utf-8")
    set_facts_loader(lambda number: make_facts(number=number))
    result = runner.invoke(postmortem, ["publish", "42", "--config", str(config)])
    assert result.exit_code == 2 and "github.repo" in result.output
