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
    h.fake.wait_for(lambda f: sum("Follow-up #" in (c.params.get("text") or "")
                                  for c in f.calls_to("chat.postMessage")) >= 2)
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
