"""`firewatch schedule ...` through click's CliRunner with a temporary firewatch.yaml."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from bot.cli.schedule import schedule

CONFIG = """
rotations:
  - name: payments
    timezone: Europe/London
    shift: {length: 1d, handoff_time: "10:00"}
    channel: C0PAYONCALL
    secondary: true
    start: 2027-03-01
    members:
      - {user: U0ANA, name: Ana, country: GB, seniority: senior}
      - {user: U0BEN, name: Ben, timezone: America/New_York, country: US, seniority: junior, fte: 0.5}
      - {user: U0CAT, name: Cat, country: GB, seniority: senior}
      - {user: U0DAN, name: Dan, country: GB}
      - {user: U0EVE, name: Eve, country: GB, seniority: senior}
    unavailability:
      - {user: U0ANA, start: 2027-03-10, end: 2027-03-12, reason: PTO}
    rules:
      senior_in_every_pair: true
  - name: web
    timezone: America/New_York
    members: [{user: U0ZOE}, {user: U0YAN}]
"""


@pytest.fixture(autouse=True)
def _away_from_any_firewatch_db(tmp_path, monkeypatch):
    # Without FIREWATCH_DATABASE_URL the CLI reads ./firewatch.db, like `serve`: run where there is none.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FIREWATCH_DATABASE_URL", raising=False)


@pytest.fixture()
def config_path(tmp_path):
    path = tmp_path / "firewatch.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return str(path)


def run(*args: str):
    return CliRunner().invoke(schedule, list(args))


def test_preview_json_shape(config_path):
    result = run("preview", "--rotation", "payments", "--start", "2027-03-26", "--end", "2027-03-30",
                 "--format", "json", "--config", config_path)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rotation"] == "payments" and data["timezone"] == "Europe/London"
    assert len(data["shifts"]) == 10  # 5 days overlapping the window, primary + secondary
    for shift in data["shifts"]:
        assert set(shift) >= {"start", "end", "user", "weight", "role"}
        assert shift["role"] in ("primary", "secondary")
        assert isinstance(shift["weight"], float)
        assert datetime.fromisoformat(shift["start"]).utcoffset() is not None
    # Times are shown in the rotation's zone: the 23 h day across the spring change.
    short = [s for s in data["shifts"] if s["start"] == "2027-03-27T10:00:00+00:00" and s["role"] == "primary"]
    assert short and short[0]["end"] == "2027-03-28T10:00:00+01:00"
    fairness = data["fairness"]
    assert isinstance(fairness["max_dev"], float)
    assert set(fairness["per_user"]) == {"U0ANA", "U0BEN", "U0CAT", "U0DAN", "U0EVE"}
    for figures in fairness["per_user"].values():
        assert isinstance(figures["burden"], float) and isinstance(figures["share"], float)


def test_preview_is_independent_of_the_window_start(config_path):
    def shifts(start):
        out = run("preview", "--rotation", "payments", "--start", start, "--end", "2027-04-10",
                  "--format", "json", "--config", config_path)
        return {(s["start"], s["role"]): s["user"] for s in json.loads(out.output)["shifts"]}

    wide, narrow = shifts("2027-03-01"), shifts("2027-04-01")
    assert narrow and all(wide[key] == user for key, user in narrow.items())


def test_preview_table(config_path):
    result = run("preview", "--rotation", "payments", "--start", "2027-03-26", "--end", "2027-03-28",
                 "--config", config_path)
    assert result.exit_code == 0
    assert "Sat 2027-03-27 10:00 GMT  Sun 2027-03-28 10:00 BST" in result.output
    assert "max deviation" in result.output


def test_unknown_rotation_lists_known_ones(config_path):
    result = run("preview", "--rotation", "payroll", "--start", "2027-03-01", "--end", "2027-03-02",
                 "--config", config_path)
    assert result.exit_code == 1
    assert "unknown rotation 'payroll'; known rotations: payments, web" in result.output
    assert "Traceback" not in result.output


def test_invalid_config_prints_problems(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("rotations:\n  - name: payments\n    timezone: Mars/Base\n    members: [{user: U0AAA}]\n")
    result = run("preview", "--rotation", "payments", "--start", "2027-03-01", "--end", "2027-03-02",
                 "--config", str(path))
    assert result.exit_code == 1
    assert "rotations[0].timezone: 'Mars/Base' is not a known IANA time zone" in result.output


def test_config_path_from_environment(config_path, monkeypatch):
    monkeypatch.setenv("FIREWATCH_CONFIG", config_path)
    result = CliRunner().invoke(schedule, ["preview", "--rotation", "web", "--start", "2027-03-01",
                                           "--end", "2027-03-03", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["timezone"] == "America/New_York"


def test_export_and_explain(config_path, tmp_path):
    ics = tmp_path / "payments.ics"
    result = run("export", "--rotation", "payments", "--ical", str(ics), "--start", "2027-03-01",
                 "--end", "2027-03-08", "--config", config_path)
    assert result.exit_code == 0, result.output
    body = ics.read_bytes()
    assert body.count(b"BEGIN:VEVENT") == 16 and b"SUMMARY:On call: payments (primary)" in body
    result = run("explain", "--rotation", "payments", "--at", "2027-03-10T12:00", "--config", config_path)
    assert result.exit_code == 0, result.output
    assert "Ana (U0ANA) excluded: unavailable (PTO" in result.output
    result = run("explain", "--rotation", "payments", "--at", "yesterday", "--config", config_path)
    assert result.exit_code == 1 and "is not a date-time" in result.output
