"""Coverage checks: a gap, a policy reaching nobody, an on-call person without a working method; posted once per
problem set to the rotation's channel (directly, and at start-up of the running app); `config check --coverage`."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.coverage import service
from bot.rotations import service as rotations
from tests.conftest import ALICE, BOB, REPORTER
from tests.coverage.conftest import (GHOST, NOMETHOD, PAY_CHANNEL, SEARCH_CHANNEL, away_span, coverage_config)


def _by(problems, scope, kind):
    return [p for p in problems if p.scope == scope and p.kind == kind]


def test_finds_the_gap_the_policy_to_nobody_and_the_person_without_methods(coverage_ctx):
    start, end = away_span()
    problems = service.find_problems(coverage_ctx)

    gaps = _by(problems, "payments", "away")
    assert gaps and min(p.start for p in gaps) == start and max(p.end for p in gaps) == end
    assert {p.who for p in gaps} <= {f"<@{ALICE}>", f"<@{BOB}>"}
    assert all("/oncall override payments @someone" in p.fix for p in gaps)

    nobody = _by(problems, "payments", "nobody")
    assert [(p.start, p.end) for p in nobody] == [(start, end)]  # both halves of the day merged
    ghost = _by(problems, "policy:ghost", "nobody")
    assert len(ghost) == 1 and ghost[0].start is None and GHOST in ghost[0].who

    contact = _by(problems, "search", "contact")
    assert [p.who for p in contact] == [f"<@{NOMETHOD}>"]
    assert "Slack does not know them" in contact[0].what and "/oncall contact add" in contact[0].fix
    # Alice and Bob have no SMS or push, but Slack knows them: a Slack DM is a working method.
    assert not _by(problems, "payments", "contact")


def test_posts_each_rotation_once_per_problem_set_and_all_clear_after_the_fix(coverage_ctx, fake_slack):
    fake = fake_slack.fake
    first = {r.scope: r for r in service.run_coverage_check(coverage_ctx)}
    assert first["payments"].posted and first["search"].posted
    assert first["policy:ghost"].note == "no channel configured"
    posted = fake.messages(PAY_CHANNEL)
    assert len(posted) == 1 and "Coverage problems for rotation *payments*" in posted[0]["text"]
    body = str(posted[0]["blocks"])
    assert "<!date^" in body and "reaches nobody" in body and "/oncall override payments" in body
    assert len(fake.messages(SEARCH_CHANNEL)) == 1

    again = {r.scope: r for r in service.run_coverage_check(coverage_ctx)}
    assert not again["payments"].posted and again["payments"].note == "same problems as last posted"
    assert len(fake.messages(PAY_CHANNEL)) == 1 and len(fake.messages(SEARCH_CHANNEL)) == 1

    start, end = away_span()
    rotations.add_override(coverage_ctx, "payments", REPORTER, start, end, by=ALICE)  # re-checks on its own
    assert coverage_ctx.background.stop() == []
    assert len(fake.messages(PAY_CHANNEL)) == 2
    assert "complete for the next 14 days" in fake.messages(PAY_CHANNEL)[-1]["text"]
    assert len(fake.messages(SEARCH_CHANNEL)) == 1  # only the rotation that changed was checked
    assert not service.run_coverage_check(coverage_ctx, "payments")[0].posted  # the all-clear is not repeated


def test_running_app_checks_at_start_up_and_schedules_the_daily_job(harness_factory, fake_slack, monkeypatch):
    monkeypatch.setattr(service, "STARTUP_DELAY_SECONDS", 0)  # a real app waits a minute after starting
    fake = fake_slack.fake
    fake.add_channel(PAY_CHANNEL, "payments-oncall", members=["UFIREWATCH", ALICE, BOB])
    fake.add_channel(SEARCH_CHANNEL, "search-oncall", members=["UFIREWATCH"])
    h = harness_factory(coverage_config())
    message = fake.wait_for(lambda f: next(iter(f.messages(PAY_CHANNEL)), None), timeout=30)
    assert "Coverage problems for rotation *payments*" in message["text"]
    fake.wait_for(lambda f: f.messages(SEARCH_CHANNEL) or None, timeout=30)

    def rescheduled(_fake):
        # After the start-up run the job stores its next run, a day later, under the same id.
        job = h.ctx.services.scheduler.aps.get_job(service.JOB_ID)
        return job if job and job.next_run_time.timestamp() > float(message["ts"]) + 23 * 3600 else None

    job = fake.wait_for(rescheduled, timeout=30)
    assert job.func_ref == service.JOB_REFERENCE == "bot.coverage.jobs:daily_check"


def test_cli_config_check_coverage_prints_one_line_per_problem(tmp_path, database_url, fake_slack, monkeypatch):
    path = tmp_path / "firewatch.yaml"
    path.write_text(yaml.safe_dump(coverage_config()))
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("FIREWATCH_SLACK_API_URL", fake_slack.api_url)
    plain = CliRunner().invoke(main, ["config", "check", "--config", str(path)])
    assert plain.exit_code == 0, plain.output

    result = CliRunner().invoke(main, ["config", "check", "--coverage", "--config", str(path)])
    assert result.exit_code == 1, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    start, _end = away_span()
    gap = [line for line in lines if line.startswith("payments: gap")]
    assert gap and f"{start:%Y-%m-%d} 00:00 UTC" in gap[0] and "fix: /oncall override payments" in gap[0]
    assert any(line.startswith(f"search: no working contact method") and f"who: {NOMETHOD}" in line
               for line in lines)
    assert any(line.startswith("policy:ghost: escalation policy 'ghost' reaches nobody") for line in lines)
    assert not any("<@" in line for line in lines)
    assert "SLACK_BOT_TOKEN is not set" not in result.output

    monkeypatch.delenv("SLACK_BOT_TOKEN")
    unasked = CliRunner().invoke(main, ["config", "check", "--coverage", "--config", str(path)])
    assert unasked.exit_code == 1 and "SLACK_BOT_TOKEN is not set" in unasked.output
    assert f"who: {ALICE}" in unasked.output  # without Slack, a Slack DM is not counted


def test_an_override_runs_the_coverage_check_in_the_background(coverage_ctx, fake_slack):
    service.run_coverage_check(coverage_ctx)
    before = len(fake_slack.fake.messages(PAY_CHANNEL))
    start, end = away_span()
    # The override use case itself runs the `roster_changed` hooks: nobody has to call the check.
    rotations.add_override(coverage_ctx, "payments", REPORTER, start, end, by=ALICE)
    latest = fake_slack.fake.wait_for(lambda f: f.messages(PAY_CHANNEL)[before:] or None)
    assert "complete for the next 14 days" in latest[-1]["text"]
    assert coverage_ctx.background.stop() == []
