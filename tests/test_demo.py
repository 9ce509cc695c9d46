"""`firewatch demo` runs the whole scenario end to end and shows what Slack users would see."""

from __future__ import annotations

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
        "Rollback done at 14:20; 5xx rate back to 0.1%",     # the :pushpin: timeline entry
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
    ):
        assert expected in text, f"missing from the demo transcript: {expected!r}"
    assert "DEMO FAILED" not in text
