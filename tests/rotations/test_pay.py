"""`firewatch report pay`: hours by type computed by hand, rates per country, one payment per hour."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from bot.cli.schedule import report
from bot.config import ConfigError, parse_config

# Ana (GB, UTC) alone on `ops` and on `db`: on call around the clock on both at once, so paid once.
# Ben (no country, New York) alone on `web`. min_rest_shifts 0 makes one-person rotations legal.
CONFIG = """
pay:
  business_hours: "09:00-18:00"
  rates:
    GB: {currency: GBP, business: 0, off_hours: 2.5, weekend: 4, holiday: 6.5}
    default: {currency: EUR, business: 1, off_hours: 3, weekend: 5, holiday: 9}
rotations:
  - name: ops
    timezone: UTC
    shift: {length: 1d, handoff_time: "00:00"}
    start: 2027-03-01
    members: [{user: U0ANA, name: Ana, country: GB}]
    rules: {min_rest_shifts: 0}
  - name: db
    timezone: UTC
    shift: {length: 1d, handoff_time: "00:00"}
    start: 2027-03-01
    members: [{user: U0ANA, name: Ana, country: GB}]
    rules: {min_rest_shifts: 0}
  - name: web
    timezone: America/New_York
    shift: {length: 1d, handoff_time: "00:00"}
    start: 2027-02-01
    members: [{user: U0BEN, name: Ben}]
    rules: {min_rest_shifts: 0}
"""


@pytest.fixture(autouse=True)
def _config_only(monkeypatch):
    monkeypatch.delenv("FIREWATCH_DATABASE_URL", raising=False)


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "firewatch.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _run(path: str, *args: str):
    return CliRunner().invoke(report, ["pay", *args, "--config", path])


def _by_type(lines: list[dict], user: str) -> dict[str, tuple[str, str]]:
    return {line["hour_type"]: (line["hours"], line["amount"]) for line in lines if line["user"] == user}


def test_pay_json_hours_by_hand_and_deduplicated_across_rotations(tmp_path):
    path = _write(tmp_path, CONFIG)
    out = _run(path, "--rotation", "ops", "--rotation", "db", "--rotation", "web", "--month", "2027-03",
               "--format", "json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    # March 2027 in UTC: 8 weekend days, Good Friday (26th) a GB holiday, 22 other weekdays of 9 + 15 hours.
    # Ana is on two rotations at every instant: 744 hours paid once, not 1488.
    assert _by_type(data["lines"], "U0ANA") == {
        "business": ("198.00", "0.00"), "off_hours": ("330.00", "825.00"),
        "weekend": ("192.00", "768.00"), "holiday": ("24.00", "156.00")}
    # New York: DST starts Sunday 14 March (a 23-hour weekend day); Ben has no country, so no holidays and
    # the default rates.
    assert _by_type(data["lines"], "U0BEN") == {
        "business": ("207.00", "207.00"), "off_hours": ("345.00", "1035.00"), "weekend": ("191.00", "955.00")}
    assert data["totals"] == {"EUR": "2197.00", "GBP": "1749.00"}
    ana = next(line for line in data["lines"] if line["user"] == "U0ANA" and line["hour_type"] == "off_hours")
    assert (ana["currency"], ana["rate"], ana["rotations"]) == ("GBP", "2.5", "ops,db")


def test_pay_csv_and_all_rotations(tmp_path):
    path = _write(tmp_path, CONFIG)
    out = _run(path, "--rotation", "all", "--month", "2027-03")
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert list(rows[0]) == ["user", "name", "country", "currency", "hour_type", "hours", "rate", "amount",
                             "rotations"]
    holiday = next(r for r in rows if r["user"] == "U0ANA" and r["hour_type"] == "holiday")
    assert holiday == {"user": "U0ANA", "name": "Ana", "country": "GB", "currency": "GBP", "hour_type": "holiday",
                       "hours": "24.00", "rate": "6.5", "amount": "156.00", "rotations": "ops,db"}
    assert sum(float(r["hours"]) for r in rows) == 744 + 743


def test_one_rotation_pays_only_its_people(tmp_path):
    path = _write(tmp_path, CONFIG)
    out = _run(path, "--rotation", "web", "--month", "2027-03", "--format", "json")
    assert out.exit_code == 0, out.output
    assert {line["user"] for line in json.loads(out.output)["lines"]} == {"U0BEN"}


@pytest.mark.parametrize(("args", "message"), [
    (["--rotation", "ops", "--month", "March"], "use YYYY-MM like 2027-03"),
    (["--rotation", "nope", "--month", "2027-03"], "unknown rotation 'nope'; known rotations: ops, db, web"),
])
def test_bad_arguments_are_one_clear_error(tmp_path, args, message):
    out = _run(_write(tmp_path, CONFIG), *args)
    assert out.exit_code == 1 and message in out.output and "Traceback" not in out.output


def test_missing_rates_name_the_person(tmp_path):
    text = CONFIG.replace("    default: {currency: EUR, business: 1, off_hours: 3, weekend: 5, holiday: 9}\n", "")
    out = _run(_write(tmp_path, text), "--rotation", "all", "--month", "2027-03")
    assert out.exit_code == 1
    assert "no pay rates for Ben (no country): add pay.rates.<COUNTRY> or pay.rates.default" in out.output


def test_no_pay_section_says_what_to_add(tmp_path):
    text = CONFIG.split("rotations:", 1)[1]
    out = _run(_write(tmp_path, "rotations:" + text), "--rotation", "ops", "--month", "2027-03")
    assert out.exit_code == 1 and "add a `pay:` section" in out.output


@pytest.mark.parametrize(("pay", "message"), [
    ({"rates": {"GB": {"currency": "pounds"}}}, "is not a currency code"),
    ({"rates": {"GB": {"currency": "GBP", "weekend": -1}}}, "must not be negative"),
    ({"rates": {"XX": {"currency": "GBP"}}}, "XX not a country code"),
    ({"business_hours": "18:00-09:00"}, "must start before they end"),
    ({"rates": {"GB": {"currency": "GBP", "nights": 3}}}, "nights"),
])
def test_pay_config_is_validated(pay, message):
    with pytest.raises(ConfigError) as caught:
        parse_config({"pay": pay})
    assert message in "\n".join(caught.value.problems)
