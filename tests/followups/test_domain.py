"""Follow-up and catalog configuration and pure rules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.config import ConfigError, parse_config
from bot.followups.domain import (Tracker, adf_description, age_text, choose_tracker, followup_overdue, issue_title,
                                  update_overdue)
from bot.followups.messages import followups_blocks

T = datetime(2027, 1, 5, 12, 0, tzinfo=timezone.utc)


def test_service_catalog_fields_and_cross_checks():
    cfg = parse_config({"services": [{"name": "checkout", "tracker": "github:acme/checkout",
                                      "runbook": "https://wiki.example/checkout", "dashboards": ["https://grafana.example/d/1"],
                                      "channel": "C0CHECKOUT"}]})
    svc = cfg.service("checkout")
    assert (svc.tracker_kind, svc.tracker_project, svc.channel) == ("github", "acme/checkout", "C0CHECKOUT")
    with pytest.raises(ConfigError) as err:
        parse_config({"services": [{"name": "a", "owner": "nobody", "escalation_policy": "none"}, {"name": "a"}]})
    problems = "\n".join(err.value.problems)
    assert "services: duplicate service name 'a'" in problems
    assert "services[0].owner: unknown rotation 'nobody'" in problems
    assert "services[0].escalation_policy: unknown escalation policy 'none'" in problems


def test_bad_tracker_and_reminder_are_one_clear_line_each():
    with pytest.raises(ConfigError) as err:
        parse_config({"services": [{"name": "a", "tracker": "gitlab:x/y"}]})
    assert err.value.problems == ["services[0].tracker: 'gitlab:x/y' is not a tracker: use `github:owner/repo` or "
                                  "`jira:PROJECTKEY`"]
    with pytest.raises(ConfigError) as err:
        parse_config({"incidents": {"update_reminder": {"sev7": "30m", "sev1": "soon"}}})
    problems = "\n".join(err.value.problems)
    assert "incidents.update_reminder.sev7: unknown severity" in problems
    assert "incidents.update_reminder.sev1" in problems


def test_tracker_choice_prefers_the_service_then_the_default():
    assert choose_tracker([None, "jira:OPS"], "github:acme/all") == Tracker("jira", "OPS")
    assert choose_tracker([], "github:acme/all") == Tracker("github", "acme/all")
    assert choose_tracker([None], None) is None


def test_issue_title_is_capped_and_keeps_the_label():
    title = issue_title("INC-7", "x" * 400)
    assert title.startswith("[INC-7] x") and len(title) == 250 and title.endswith("…")


def test_update_overdue_repeats_once_per_threshold():
    threshold = timedelta(minutes=30)
    assert not update_overdue(T, None, threshold, T + timedelta(minutes=29))
    assert update_overdue(T, None, threshold, T + timedelta(minutes=30))
    nudged = T + timedelta(minutes=30)
    assert not update_overdue(T, nudged, threshold, T + timedelta(minutes=45))
    assert update_overdue(T, nudged, threshold, T + timedelta(minutes=60))


def test_adf_description_links_the_incident():
    doc = adf_description("Add an alert", "INC-3", "https://slack.com/app_redirect?channel=C1", "Bob")
    assert doc["type"] == "doc" and doc["version"] == 1
    link = doc["content"][1]["content"][1]
    assert link["marks"][0] == {"type": "link", "attrs": {"href": "https://slack.com/app_redirect?channel=C1"}}
    assert age_text(T, T + timedelta(days=2, hours=3, seconds=59)) == "2d 3h"


def test_followup_overdue_after_its_sla_and_flagged_in_the_list():
    sla = timedelta(days=7)
    assert not followup_overdue(T, None, None, T + timedelta(days=100))
    assert not followup_overdue(T, None, sla, T + timedelta(days=6))
    assert followup_overdue(T, None, sla, T + timedelta(days=7))
    assert not followup_overdue(T, T + timedelta(days=7), sla, T + timedelta(days=13))
    text = followups_blocks("INC-1", [(4, "Add <!here> alert", None, "8d", None, True)])[0]["text"]["text"]
    assert "#4" in text and "_no owner_" in text and "*overdue*" in text and "<!here>" not in text


def test_cli_lists_overdue_followups(database_url, monkeypatch, tmp_path):
    from click.testing import CliRunner
    from sqlmodel import select

    from bot.cli.followups import followups
    from storage.db import make_engine, session_scope
    from storage.models import FollowUp, Incident

    engine = make_engine(database_url)
    old = datetime.now(timezone.utc) - timedelta(days=10)
    with session_scope(engine) as s:
        for number, private in ((1, False), (2, True)):
            inc = Incident(number=number, title="t", severity="sev2", private=private, created_at=old, updated_at=old)
            s.add(inc)
            s.flush()
            s.add(FollowUp(incident_id=inc.id, text=f"Fix {number}", owner_id="U0BOB", created_at=old))
    with session_scope(engine) as s:
        assert len(s.exec(select(FollowUp)).all()) == 2
    engine.dispose()
    config = tmp_path / "firewatch.yaml"
    config.write_text("followups:\n  sla: {sev2: 7d}\n", encoding="utf-8")
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", database_url)
    result = CliRunner().invoke(followups, ["overdue", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "#1  INC-1  open 10d" in result.output and "Fix 1" in result.output
    assert "Fix 2" not in result.output  # private incident
    config.write_text("", encoding="utf-8")
    result = CliRunner().invoke(followups, ["overdue", "--config", str(config)])
    assert result.exit_code == 0 and "no `followups.sla` is configured" in result.output
