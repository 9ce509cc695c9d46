"""`firewatch demo` runs the whole scenario end to end and shows what Slack users would see."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.demo import run_demo


def test_demo_scenario_runs_and_tells_the_story(monkeypatch):
    monkeypatch.delenv("FIREWATCH_WEBHOOK_TOKEN", raising=False)
    lines: list[str] = []
    assert run_demo(out=lines.append) == 0, "\n".join(lines[-30:])
    text = "\n".join(lines)
    for expected in (
        "+ channel #inc-1-checkout-api-returning-500s created",
        "message pinned in #inc-1-checkout-api-returning-500s",
        "@Alice is now *commander*",
        "UTC; 5xx rate back to 0.1%",                       # the :pushpin: timeline entry
        "Time to resolve",
        "Firewatch posts in DM @",                          # the alert paged someone
        "(no second page)",
        "escalated page `1`",
        "@Lee acknowledged page `1`",
        "The alert resolved",
        "== Handoff: payments ==",
        "user group S0PAYONCALL now:",
        "*Fairness — payments*",
        ":robot_face: *AI suggestion*",
        "accepted the triage suggestion: severity SEV3 → *SEV2*",
        "*Root-cause hypotheses*",
        "Evidence: `E1`",
        "Postmortem published:",
        "== Catch-up: INC-2 ==",                             # /incident catchup
        ":alarm_clock: Commander (unassigned): no update for 31m",  # the update nudge
        "[Post update]",
        ":link: GitHub issue: https://github.com/acme/checkout/issues/1",  # the follow-up became an issue
        "got POST /repos/acme/checkout/issues → 201: #1",
        "@Riley reopened *INC-1* (now investigating)",     # /incident reopen
        "[link](https://github.com/acme/checkout/issues/1)",  # the postmortem's action item links the issue
    ):
        assert expected in text, f"missing from the demo transcript: {expected!r}"
    assert "DEMO FAILED" not in text
    assert "firewatch postmortem render" not in text  # Slack never sends people to a shell
    _times_agree_with_the_timeline(text)


def _minute(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M")


def _times_agree_with_the_timeline(text: str) -> None:
    """The alert started shortly before the declaration and the texts' clock times fall around it (issue 15)."""
    declared = _minute(re.search(r"\*Declared\*: (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", text).group(1))
    started = _minute(re.search(r"started (\d{4}-\d\d-\d\d \d\d:\d\d) UTC\)", text).group(1))
    assert declared - timedelta(minutes=10) <= started <= declared
    day = declared.strftime("%Y-%m-%d")
    deploy = _minute(day + " " + re.search(r"Errors started with the (\d\d:\d\d) UTC deploy", text).group(1))
    rollback = _minute(day + " " + re.search(r"Rollback done at (\d\d:\d\d) UTC", text).group(1))
    # Midnight could separate them; compare on a circle of one day.
    assert timedelta(0) < (declared - deploy) % timedelta(days=1) <= timedelta(minutes=10)
    assert (rollback - declared) % timedelta(days=1) <= timedelta(minutes=5)
