"""E-mail -> Slack id through users.lookupByEmail (fake Slack), the fairness audit, and calendar imports."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from icalendar import Calendar, Event

from bot.cli import main
from bot.importers import service
from bot.slack.client import make_slack_client

FIXTURES = Path(__file__).parent / "fixtures"
UTC = timezone.utc
PD_PEOPLE = {"U0EARL": "125.greenholt.earline@graham.name", "U0KYL": "kyler.kuhn@example.com",
             "U0TIMW": "tim.wright@example.com", "U0ANAS": "ana.silva@example.com"}


def _slack_people(fake_slack, people: dict[str, str]) -> None:
    for uid, email in people.items():
        fake_slack.fake.add_user(uid, email.split("@")[0].replace(".", ""), tz="America/New_York")
        fake_slack.fake.users[uid]["profile"]["email"] = email.upper()  # Slack matches e-mails case-insensitively


def test_lookup_by_email_against_fake_slack(fake_slack):
    _slack_people(fake_slack, {"U0EARL": "125.greenholt.earline@graham.name"})
    client = make_slack_client("xoxb-test", fake_slack.api_url)
    directory = service.lookup_by_email(["125.greenholt.earline@graham.name", "nobody@example.com"], client)
    assert directory.slack_ids == {"125.greenholt.earline@graham.name": "U0EARL"}
    assert directory.timezones == {"125.greenholt.earline@graham.name": "America/New_York"}
    assert [c.params.get("email") for c in fake_slack.fake.attempts("users.lookupByEmail")] == [
        "125.greenholt.earline@graham.name", "nobody@example.com"]


def test_cli_maps_people_with_lookup_by_email_when_there_is_no_users_csv(fake_slack, monkeypatch, tmp_path):
    _slack_people(fake_slack, PD_PEOPLE)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("FIREWATCH_SLACK_API_URL", fake_slack.api_url)
    out = tmp_path / "firewatch.yaml"
    result = CliRunner().invoke(main, ["import", "pagerduty", "--from", str(FIXTURES / "pagerduty_escalation"),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "looking up 5 people with users.lookupByEmail" in result.output
    data = yaml.safe_load(out.read_text())
    primary = next(r for r in data["rotations"] if r["name"] == "payments-primary")
    assert [m["user"] for m in primary["members"]] == ["U0EARL", "U0KYL", "U0TIMW", "U0ANAS"]
    assert CliRunner().invoke(main, ["config", "check", "--config", str(out)]).exit_code == 0


def test_lookup_without_the_email_scope_is_a_clear_error(fake_slack):
    fake_slack.fake.fail("users.lookupByEmail", error="missing_scope")
    client = make_slack_client("xoxb-test", fake_slack.api_url)
    with pytest.raises(service.ImportFailed) as caught:
        service.lookup_by_email(["ana.silva@example.com"], client)
    assert "users:read.email" in caught.value.problems[0]


@pytest.mark.parametrize(("vendor", "case"), [("pagerduty", "pagerduty_layers"), ("opsgenie", "opsgenie_rotations"),
                                              ("grafana-oncall", "grafana_layers")])
def test_audit_compares_old_and_new_and_writes_the_chart(tmp_path, vendor, case):
    outcome = service.import_export(service.read_export(vendor, FIXTURES / case),
                                    service.read_users_csv(FIXTURES / "users.csv"), today=date(2027, 1, 4))
    chart = tmp_path / "audit.png"
    audits, path = service.run_audit(outcome, start=date(2027, 1, 4), months=6, chart=chart)
    assert path == chart and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (item,) = audits
    # The whole team is compared, on the same six months, with the same rules.
    assert {x.user for x in item.old.loads} == {x.user for x in item.new.loads}
    assert item.new.max_dev < item.old.max_dev  # Firewatch balances the burden the old schedule left uneven
    old_hours = sum(x.hours for x in item.old.loads)
    assert old_hours > 0 and all(x.shifts > 0 for x in item.new.loads)
    text = item.render()
    assert "MaxDev old" in text and "new" in text


def test_audit_figures_on_the_pagerduty_fixture(tmp_path):
    outcome = service.import_export(service.read_export("pagerduty", FIXTURES / "pagerduty_layers"),
                                    service.read_users_csv(FIXTURES / "users.csv"), today=date(2027, 1, 4))
    (item,), _ = service.run_audit(outcome, start=date(2027, 1, 4), months=6, chart=tmp_path / "audit.png")
    old = {x.user: x for x in item.old.loads}
    # A 24/7 final schedule over 181 days: every hour is someone's, overrides included.
    assert round(sum(x.hours for x in old.values())) == 181 * 24 - 1  # one hour lost to spring forward
    # Ana only works nights (Night Shift layer) and overrides, so she carries far less than her share.
    assert old["U0ANA"].deviation < 0 and old["U0ANA"].night_hours > old["U0KYLER"].night_hours


def test_cli_audit_prints_maxdev_and_the_chart_path(tmp_path):
    out = tmp_path / "firewatch.yaml"
    result = CliRunner().invoke(main, ["import", "grafana-oncall", "--from", str(FIXTURES / "grafana_layers"),
                                       "--users", str(FIXTURES / "users.csv"), "--out", str(out), "--audit"])
    assert result.exit_code == 0, result.output
    assert "MaxDev old" in result.output
    chart = tmp_path / "firewatch-audit.png"
    assert f"chart: {chart}" in result.output and chart.exists()


def _calendar(days: int = 10) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//test//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-timezone", "Europe/London")
    people = ["public-api-demo-user-1@grafana.com", "public-api-demo-user-2@grafana.com", "On call: Chris"]
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    for n in range(days):
        start = datetime(2027, 3, 24, 9, tzinfo=london) + timedelta(days=n)  # wall-clock days: 09:00 every day
        end = datetime(2027, 3, 25, 9, tzinfo=london) + timedelta(days=n)
        event = Event()
        event.add("uid", f"{n}@test")
        event.add("dtstart", start)
        event.add("dtend", end)
        who = people[n % 3]
        if "@" in who:
            event.add("summary", "On call")
            event.add("attendee", f"mailto:{who}")
        else:
            event.add("summary", who)
        cal.add_component(event)
    return cal.to_ical()


def test_ical_file_import_infers_the_rotation_across_bst(tmp_path):
    ics = tmp_path / "oncall.ics"
    ics.write_bytes(_calendar())
    out = tmp_path / "firewatch.yaml"
    result = CliRunner().invoke(main, ["import", "ical", str(ics), "--rotation", "support",
                                       "--users", str(FIXTURES / "users.csv"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out.read_text())
    (rotation,) = data["rotations"]
    assert rotation["name"] == "support" and rotation["timezone"] == "Europe/London"
    assert rotation["shift"] == {"length": "1d", "handoff_time": "09:00"}  # the 23 h event is still a day
    assert [m["user"] for m in rotation["members"]] == ["U0ALEX", "U0BEA", "U0CHRIS"]  # Chris by users.csv name
    assert CliRunner().invoke(main, ["config", "check", "--config", str(out)]).exit_code == 0


def test_ical_url_over_loopback_and_a_bad_url(tmp_path):
    body = _calendar()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/team.ics":
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        export = service.read_calendar(f"{base}/team.ics", "support")
        assert len(export.schedules[0].recorded) == 10
        with pytest.raises(service.ImportFailed) as caught:
            service.read_calendar(f"{base}/missing.ics", "support")
        assert "could not fetch the calendar" in caught.value.problems[0]
        with pytest.raises(service.ImportFailed) as caught:
            service.read_calendar("ftp://example.invalid/x.ics", "support")
        assert "only http:// and https://" in caught.value.problems[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
