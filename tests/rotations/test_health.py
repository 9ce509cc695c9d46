"""`firewatch report health`: numbers, JSON, and the PNG chart opened and checked."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from matplotlib import image

from bot.cli.schedule import report
from bot.rotations.domain.health import CHART_SIZE, parse_period
from tests.rotations.test_cli import CONFIG


@pytest.fixture()
def config_path(tmp_path):
    path = tmp_path / "firewatch.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return str(path)


def test_period_grammar():
    assert [d.isoformat() for d in parse_period("2027-Q1")] == ["2027-01-01", "2027-04-01"]
    assert [d.isoformat() for d in parse_period("2027-Q4")] == ["2027-10-01", "2028-01-01"]
    assert [d.isoformat() for d in parse_period("2027-12")] == ["2027-12-01", "2028-01-01"]
    for bad in ("2027-Q5", "2027-13", "Q1", "2027"):
        with pytest.raises(ValueError, match="quarter like 2027-Q1"):
            parse_period(bad)


def test_health_json_numbers_and_the_chart_png(config_path, tmp_path, monkeypatch):
    monkeypatch.delenv("FIREWATCH_DATABASE_URL", raising=False)
    chart = tmp_path / "health.png"
    out = CliRunner().invoke(report, ["health", "--rotation", "payments", "--period", "2027-03", "--format", "json",
                                      "--chart", str(chart), "--config", config_path])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    people = {p["user"]: p for p in data["people"]}
    # March 2027 from the 1st (the anchor): 31 daily primary and 31 secondary shifts, everyone takes some.
    assert sum(p["shifts"] for p in people.values()) == 31
    assert sum(p["secondary_shifts"] for p in people.values()) == 31
    assert people["U0ANA"]["longest_streak_days"] >= 2  # a 24 h shift from 10:00 touches two calendar days
    assert all(p["night_hours"] > 0 for p in people.values())
    pixels = image.imread(chart)
    assert pixels.shape[1] == CHART_SIZE[0] and pixels.shape[0] == CHART_SIZE[1]
    assert pixels.std() > 0.01  # not a blank image
    assert data["chart"] == str(chart) and data["planner"].startswith(("optimal", "greedy"))
    # The chart's bars are the JSON's numbers, person by person.
    from bot.config import load_config
    from bot.rotations.domain import plan_window
    from bot.rotations.domain.health import health_report

    rotation = next(r for r in load_config(config_path).rotations if r.name == "payments")
    start, end = parse_period("2027-03")
    bars = health_report(plan_window(rotation, start, end), start, end, "2027-03").chart_values()
    assert bars["night h"] == [p["night_hours"] for p in data["people"]]
    assert bars["burden"] == [p["burden"] for p in data["people"]]
    assert bars["fair share"] == [p["share"] for p in data["people"]]
    table = CliRunner().invoke(report, ["health", "--rotation", "payments", "--period", "2027-03",
                                        "--chart", str(tmp_path / "t.png"), "--config", config_path])
    assert table.exit_code == 0 and "Ana" in table.output and f"{people['U0ANA']['night_hours']:.1f}" in table.output


def test_bad_period_is_a_clear_error(config_path, tmp_path):
    out = CliRunner().invoke(report, ["health", "--rotation", "payments", "--period", "March",
                                      "--chart", str(tmp_path / "x.png"), "--config", config_path])
    assert out.exit_code == 1 and "quarter like 2027-Q1" in out.output and "Traceback" not in out.output
    assert not (tmp_path / "x.png").exists()
