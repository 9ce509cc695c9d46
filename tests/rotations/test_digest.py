"""The weekly digest: opt-in, last week's health per person and the overdue follow-ups (never private ones)."""

from __future__ import annotations

import copy
from datetime import timedelta

from sqlmodel import select

from bot.rotations.digest import send_weekly_digest
from storage.models import FollowUp, Incident
from tests.conftest import BOB
from tests.rotations.helpers import CHANNEL, MEMBERS, config, start


def _config(opt_in: bool = True) -> dict:
    cfg = copy.deepcopy(config())
    cfg["rotations"][0]["weekly_digest"] = opt_in
    cfg["followups"] = {"sla": {"sev2": "7d"}}
    return cfg


def _posts(h) -> list:
    return [c for c in h.fake.calls_to("chat.postMessage") if c.params.get("channel") == CHANNEL
            and "on-call week" in (c.params.get("text") or "")]


def test_digest_lists_the_week_and_overdue_public_followups_only(harness_factory):
    h = start(harness_factory, _config())
    public = h.declare("sev2 Checkout API returning 500s")
    h.command(f"followup Add an alert on checkout 5xx ratio <@{BOB}>", channel=public)
    hidden = h.declare("sev2 Card data exposure")
    h.command("followup Rotate the leaked signing key", channel=hidden)
    # Generous: on a loaded CI machine two declares and two follow-ups can take a while to be posted.
    h.fake.wait_for(lambda f: sum("Follow-up #" in (c.params.get("text") or "")
                                  for c in f.calls_to("chat.postMessage")) >= 2, timeout=45)
    with h.ctx.session() as s:
        secret = s.exec(select(Incident).where(Incident.channel_id == hidden)).one()
        secret.private = True
        s.add(secret)
        created = max(f.created_at for f in s.exec(select(FollowUp)))
    now = created + timedelta(days=8)
    result = send_weekly_digest(h.ctx, "payments", now)
    assert result.sent and result.problem is None
    text = _posts(h)[-1].params["text"]
    assert "1 overdue follow-up" in text and "Add an alert on checkout 5xx ratio" in text and f"<@{BOB}>" in text
    assert "Rotate the leaked signing key" not in text and "Card data exposure" not in text
    # One line per member, with the week's shifts: a daily rotation of three covers 7 days in 7 shifts.
    people = [line for line in result.lines if line.startswith("• <@U0")]
    assert len(people) == len(MEMBERS)
    assert sum(int(line.split(": ")[1].split(" shift")[0]) for line in people) == 7


def test_digest_is_opt_in_and_says_when_nothing_is_overdue(harness_factory):
    h = start(harness_factory, _config(opt_in=False))
    off = send_weekly_digest(h.ctx, "payments")
    assert not off.sent and off.problem == "weekly_digest is off" and not _posts(h)
    h2 = start(harness_factory, _config())
    result = send_weekly_digest(h2.ctx, "payments")
    assert result.sent and "No follow-ups are overdue." in result.lines[-1]


def test_next_digest_is_monday_morning_in_the_rotation_zone():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    from bot.rotations.digest import next_digest_time

    london = ZoneInfo("Europe/London")
    # Wednesday 2027-03-03 → Monday 2027-03-08 09:00 London; Monday 08:59 → the same morning; 09:00 → next week.
    assert next_digest_time(london, datetime(2027, 3, 3, 12, tzinfo=timezone.utc)) == datetime(2027, 3, 8, 9,
                                                                                              tzinfo=london)
    assert next_digest_time(london, datetime(2027, 3, 8, 8, 59, tzinfo=london)) == datetime(2027, 3, 8, 9,
                                                                                          tzinfo=london)
    assert next_digest_time(london, datetime(2027, 3, 8, 9, 0, tzinfo=london)) == datetime(2027, 3, 15, 9,
                                                                                         tzinfo=london)


def test_opted_in_rotation_has_its_digest_job_stored_and_the_job_posts_and_reschedules(harness_factory):
    from bot import jobs
    from bot.rotations.digest import digest_job_id

    h = start(harness_factory, _config())
    job = h.fake.wait_for(lambda f: h.ctx.services.scheduler.aps.get_job(digest_job_id("payments")))
    assert job.func_ref == "bot.jobs:weekly_digest" and job.args == ("payments",)
    first = job.next_run_time
    jobs.weekly_digest("payments")
    assert len(_posts(h)) == 1
    again = h.ctx.services.scheduler.aps.get_job(digest_job_id("payments"))
    assert again.next_run_time >= first
    off = start(harness_factory, _config(opt_in=False))
    assert off.ctx.services.scheduler.aps.get_job(digest_job_id("payments")) is None
