"""`firewatch schedule` reads what the bot stored when FIREWATCH_DATABASE_URL is set, so the CLI agrees with
`/oncall` (published shifts, swaps, overrides, PTO and pages), and plans from the config alone otherwise."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from storage.db import make_engine, session_scope
from storage.models import PublishedShift, RotationOverride

ROTATION = {"name": "payments", "timezone": "UTC", "start": "2030-01-07",
            "shift": {"length": "1d", "handoff_time": "10:00"},
            "members": [{"user": "U0ANA"}, {"user": "U0BEN"}, {"user": "U0CAL"}],
            "rules": {"min_rest_shifts": 0}}


@pytest.fixture(autouse=True)
def _away_from_any_firewatch_db(tmp_path, monkeypatch):
    # Without FIREWATCH_DATABASE_URL the CLI reads ./firewatch.db, like `serve`: run where there is none.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FIREWATCH_DATABASE_URL", raising=False)


def _preview(config, env) -> dict:
    result = CliRunner().invoke(main, ["schedule", "preview", "--rotation", "payments", "--start", "2030-01-07",
                                       "--end", "2030-01-10", "--format", "json", "--config", str(config)], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_preview_uses_published_shifts_and_overrides_from_the_database(tmp_path, database_url):
    config = tmp_path / "firewatch.yaml"
    config.write_text(yaml.safe_dump({"rotations": [ROTATION]}))
    planned = _preview(config, {})
    first = planned["shifts"][0]
    start = datetime.fromisoformat(first["start"]).astimezone(timezone.utc)
    someone_else = next(u for u in ("U0ANA", "U0BEN", "U0CAL") if u != first["user"])

    engine = make_engine(database_url)
    with session_scope(engine) as s:
        s.add(PublishedShift(rotation="payments", role="primary", start=start, end=start + timedelta(days=1),
                             user_id=someone_else, weight=1.0))
        s.add(RotationOverride(rotation="payments", user_id="U0CAL", role="primary",
                               start=start + timedelta(days=1, hours=2), end=start + timedelta(days=1, hours=4)))
    engine.dispose()

    stored = _preview(config, {"FIREWATCH_DATABASE_URL": database_url})
    assert stored["shifts"][0]["user"] == someone_else and stored["shifts"][0]["source"] == "frozen"
    overrides = [s for s in stored["shifts"] if s["source"] == "override"]
    assert [(o["user"], o["hours"]) for o in overrides] == [("U0CAL", 2.0)]
    assert _preview(config, {})["shifts"][0]["user"] == first["user"]  # without the database: the config plan


def test_unmigrated_database_is_a_clear_error(tmp_path):
    config = tmp_path / "firewatch.yaml"
    config.write_text(yaml.safe_dump({"rotations": [ROTATION]}))
    result = CliRunner().invoke(main, ["schedule", "explain", "--rotation", "payments", "--at", "2030-01-08T12:00",
                                       "--config", str(config)],
                                env={"FIREWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert result.exit_code == 1
    assert "run `firewatch db upgrade` first" in result.output


def test_without_the_variable_the_cli_reads_the_database_serve_uses(tmp_path, monkeypatch):
    """No FIREWATCH_DATABASE_URL: `serve`'s default ./firewatch.db is read when it exists (here unmigrated, so the
    error names it); when it does not exist, the config alone is planned."""
    config = tmp_path / "firewatch.yaml"
    config.write_text(yaml.safe_dump({"rotations": [ROTATION]}))
    assert _preview(config, {})["shifts"]  # no ./firewatch.db yet: planned from the config
    (tmp_path / "firewatch.db").write_bytes(b"")
    result = CliRunner().invoke(main, ["schedule", "preview", "--rotation", "payments", "--start", "2030-01-07",
                                       "--end", "2030-01-10", "--config", str(config)])
    assert result.exit_code == 1
    assert "sqlite:///./firewatch.db" in result.output and "firewatch db upgrade" in result.output
