"""`/oncall` through the real HTTP endpoint: who, schedule, fairness, export and the iCal feed, usage errors."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from icalendar import Calendar

from bot.rotations import service
from bot.rotations.domain.commands import OncallUsageError, parse_oncall_command
from storage.types import utcnow
from tests.conftest import ALICE, BOB, REPORTER
from tests.rotations.helpers import CAROL, MEMBERS, oncall, shifts, start, text_of


def test_who_schedule_and_fairness(harness_factory):
    h = start(harness_factory)
    now = utcnow()
    current = service.on_call(h.ctx, "payments", at=now)
    assert current in MEMBERS

    who = text_of(oncall(h, "who"))
    assert "*payments*" in who
    assert f"<@{current}>" in who.split("*payments*:", 1)[1]
    assert "<!date^" in who and "then <@" in who

    # Someone in no rotation sees every rotation.
    assert "*payments*" in text_of(oncall(h, "who", user=REPORTER))

    reply = oncall(h, "schedule payments 1")
    body = text_of(reply)
    lines = [ln for ln in body.splitlines() if ln.startswith("• ")]
    expected = [r for r in shifts(h) if r.end > now and r.start < now + timedelta(weeks=1)]
    assert [re.search(r"<@(U\w+)>", ln).group(1) for ln in lines] == [r.user_id for r in expected]
    assert all(ln.count("<!date^") == 2 for ln in lines)
    assert "planned, may change" not in body  # one week is inside the two published weeks

    four = text_of(oncall(h, "schedule 4"))
    assert "planned, may change" in four  # beyond the horizon

    fair = text_of(oncall(h, "fairness"))
    assert "```" in fair
    for column in ("burden", "share", "night h", "weekend h", "holiday h"):
        assert column in fair
    for name in ("Alice", "Bob", "Carol"):
        assert name in fair


def test_export_and_ical_feed(harness_factory):
    h = start(harness_factory, FIREWATCH_PUBLIC_URL="https://fw.example.com/")
    reply = text_of(oncall(h, "export", user=BOB))
    m = re.search(r"https://fw\.example\.com/oncall/payments\.ics\?token=([\w-]+)", reply)
    assert m, reply
    token = m.group(1)

    with httpx.Client(base_url=h.running.url, timeout=10) as http:
        ok = http.get(f"/oncall/payments.ics?token={token}")
        assert ok.status_code == 200
        assert ok.headers["content-type"].startswith("text/calendar")
        cal = Calendar.from_ical(ok.content)
        events = [c for c in cal.walk() if c.name == "VEVENT"]
        assert len(events) >= 8 * 7  # eight weeks ahead, daily shifts
        assert {str(e["x-firewatch-user"]) for e in events} <= set(MEMBERS)
        published = {(r.start, r.user_id) for r in shifts(h)}
        in_feed = {(e.decoded("dtstart"), str(e["x-firewatch-user"])) for e in events}
        assert published <= in_feed  # the feed shows the published (frozen) schedule as it is

        assert http.get(f"/oncall/payments.ics?token={token}x").status_code == 403
        assert http.get("/oncall/payments.ics").status_code == 403
        assert http.get(f"/oncall/nope.ics?token={token}").status_code == 404


def test_export_without_public_url_says_what_to_set(harness_factory):
    # Issue 10: no localhost link when FIREWATCH_PUBLIC_URL is unset; the reply names the variable instead.
    h = start(harness_factory)
    reply = text_of(oncall(h, "export"))
    assert "FIREWATCH_PUBLIC_URL is not set" in reply and "localhost" not in reply and "token=" not in reply


def test_usage_errors_and_unknown_people(harness_factory):
    h = start(harness_factory)
    bad = oncall(h, "frobnicate")
    assert "unknown command `frobnicate`" in bad["text"] and "/oncall who" in bad["text"]
    assert "name a person with an @mention" in oncall(h, "swap bob tomorrow")["text"]
    assert "is not a date" in oncall(h, f"override <@{CAROL}> soon later")["text"]
    assert "weeks must be 1 to 8" in oncall(h, "schedule 12")["text"]
    assert "/oncall who" in oncall(h, "help")["text"]

    unknown = oncall(h, "override payments <@U0NOBODY> 2030-01-01 2030-01-02")
    assert "can't find <@U0NOBODY>" in unknown["text"]
    stranger = oncall(h, f"swap <@{CAROL}> tomorrow", user=REPORTER)
    assert "not in any rotation" in stranger["text"]
    outsider = oncall(h, "swap <@U0REPORTER> tomorrow", user=ALICE)
    assert "is not in your rotation" in outsider["text"]


def test_parser_keeps_note_text_and_rotation():
    cmd = parse_oncall_command("note payments  DB-3 disk at 85%  <!channel>", ["payments"])
    assert (cmd.name, cmd.rotation, cmd.args["text"]) == ("note", "payments", "DB-3 disk at 85%  <!channel>")
    cmd = parse_oncall_command("override <@U0BOB|bob> 2027-03-01T14:00 2027-03-01T18:00", ["payments"])
    assert cmd.rotation is None and cmd.args["user"] == "U0BOB"
    with pytest.raises(OncallUsageError, match="from the @ menu"):
        parse_oncall_command("swap @bob 2027-03-01", ["payments"])
    with pytest.raises(OncallUsageError, match="unexpected"):
        parse_oncall_command("who payments extra", ["payments"])
