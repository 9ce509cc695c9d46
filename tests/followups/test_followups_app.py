"""Follow-ups, catch-up and update nudges in the running app: signed Slack requests, the strict Slack stand-in,
GitHub through respx (loopback requests pass through to the app and the stand-in)."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
import respx
from sqlmodel import select

from bot.followups import service
from bot.followups.messages import POST_UPDATE_ACTION, POST_UPDATE_VIEW
from bot.postmortems.store import load_incident_facts
from storage.models import FollowUp, Incident, TimelineEvent
from storage.tables_followups import FollowUpIssue
from tests.conftest import ALICE, BASE_CONFIG, BOB, REPORTER
from tests.followups.conftest import fixture_json

GH = "https://github.example/api/v3"
ISSUES = f"{GH}/repos/acme/checkout/issues"
CONFIG = {**BASE_CONFIG,
          "incidents": {**BASE_CONFIG["incidents"], "update_reminder": {"sev2": "30m"}},
          "services": [{"name": "checkout", "tracker": "github:acme/checkout"}],
          "followups": {"github_api_url": GH}}


@pytest.fixture
def github(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test")
    with respx.mock(assert_all_called=False) as mock:
        mock.route(host="127.0.0.1").pass_through()
        yield mock


def _posted(fake, needle: str):
    return fake.wait_for(lambda f: next((c for c in f.calls_to("chat.postMessage")
                                         if needle in (c.params.get("text") or "")), None))


def _run(h, name: str, channel: str, expect: str, user: str = REPORTER) -> dict:
    """Send `/incident <name>` and return the ephemeral reply whose text contains `expect` (new replies only)."""
    before = len(h.responses())
    assert h.command(name, channel=channel, user=user).status_code == 200
    return h.fake.wait_for(lambda f: next((r for r in f.responses[before:] if expect in (r.get("text") or "")), None))


def test_followup_becomes_a_github_issue_listed_and_closed_by_sync(harness_factory, github):
    h = harness_factory(CONFIG)
    create = github.post(ISSUES).mock(return_value=httpx.Response(201, json=fixture_json("github_issue_201.json")))
    channel = h.declare("sev2 Checkout API returning 500s")
    h.command(f"followup Add an alert on checkout 5xx ratio <@{BOB}>", channel=channel)
    msg = _posted(h.fake, "Follow-up #1")
    assert "GitHub issue: <https://github.com/acme/checkout/issues/1347>" in msg.params["text"]
    sent = json.loads(create.calls.last.request.content)
    assert sent["title"] == "[INC-1] Add an alert on checkout 5xx ratio" and "Owner: Bob" in sent["body"]
    with h.ctx.session() as s:
        issue = s.exec(select(FollowUpIssue)).one()
        assert (issue.tracker, issue.project, issue.key, issue.state) == ("github", "acme/checkout", "1347", "open")

    # The postmortem's action item links the issue, its owner by name.
    with h.ctx.session() as s:
        inc_id = s.exec(select(Incident)).one().id
    (action,) = load_incident_facts(h.ctx, inc_id).follow_ups
    assert (action.link, action.owner) == ("https://github.com/acme/checkout/issues/1347", "Bob")

    listed = _run(h, "followups", channel, "Open follow-ups")
    text = json.dumps(listed["blocks"])
    assert "#1 Add an alert on checkout 5xx ratio" in text and f"<@{BOB}>" in text and "issues/1347" in text

    github.get(f"{ISSUES}/1347").mock(
        return_value=httpx.Response(200, json={**fixture_json("github_issue_201.json"), "state": "closed"}))
    assert service.sync_issues(h.ctx) == 1
    assert service.sync_issues(h.ctx) == 0  # already closed: not synced again
    _posted(h.fake, "Follow-up #1 is done")
    with h.ctx.session() as s:
        assert s.exec(select(FollowUp)).one().done is True
        kinds = [e.kind for e in s.exec(select(TimelineEvent))]
    assert "followup_issue" in kinds and "followup_done" in kinds
    assert "None." in json.dumps(_run(h, "followups", channel, "Open follow-ups")["blocks"])


def test_tracker_refusal_keeps_the_followup_and_says_so(harness_factory, github):
    h = harness_factory(CONFIG)
    github.post(ISSUES).mock(return_value=httpx.Response(401, json={"message": "Bad credentials"}))
    channel = h.declare("sev2 Checkout API returning 500s")
    h.command("followup process Write the runbook", channel=channel)
    msg = _posted(h.fake, "Follow-up #1")
    assert "no GitHub issue was created (creating the GitHub issue failed: HTTP 401 Bad credentials)" in msg.params["text"]
    with h.ctx.session() as s:
        assert s.exec(select(FollowUp)).one().text == "Write the runbook"
        assert s.exec(select(FollowUpIssue)).first() is None


def test_private_incident_sends_nothing_to_the_tracker(harness_factory, github):
    h = harness_factory({**CONFIG, "incidents": {**CONFIG["incidents"], "private_by_default": True}})
    channel = h.declare("sev2 Checkout card data exposure")
    h.command("followup Rotate the leaked key", channel=channel)
    msg = _posted(h.fake, "Follow-up #1")
    assert "Private incident: no GitHub issue was opened" in msg.params["text"]
    assert not [c for c in github.calls if c.request.url.host != "127.0.0.1"]


def test_incident_without_a_tracker_records_the_followup_only(harness_factory, github):
    h = harness_factory(CONFIG)
    channel = h.declare("sev2 Search is slow")
    h.command("followup Tune the index", channel=channel)
    msg = _posted(h.fake, "Follow-up #1")
    assert "issue" not in msg.params["text"]
    assert not [c for c in github.calls if c.request.url.host != "127.0.0.1"]


def test_catchup_summarises_roles_status_updates_and_questions(harness):
    h = harness
    channel = h.declare("sev2 Checkout API returning 500s")
    h.command(f"role commander <@{ALICE}|alice>", channel=channel)
    _posted(h.fake, "is now *commander*")
    h.command("update Rolled back the 14:02 deploy", channel=channel)
    h.command("timeline Is the EU region affected?", channel=channel)
    _posted(h.fake, "added to the timeline")
    _posted(h.fake, "Rolled back")
    reply = _run(h, "catchup", channel, "Catch-up")
    text = json.dumps(reply["blocks"])
    assert reply["response_type"] == "ephemeral"
    assert f"commander: <@{ALICE}>" in text and "comms: _unassigned_" in text
    assert "Rolled back the 14:02 deploy" in text and "Is the EU region affected?" in text
    assert "SEV2" in text and "investigating" in text


def test_update_nudge_posts_once_and_the_button_posts_an_update(harness_factory):
    h = harness_factory(CONFIG)
    channel = h.declare("sev2 Checkout API returning 500s")
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
    assert service.nudge_updates(h.ctx, now=inc.created_at + timedelta(minutes=29)) == []
    assert service.nudge_updates(h.ctx, now=inc.created_at + timedelta(minutes=31)) == [inc.id]
    assert service.nudge_updates(h.ctx, now=inc.created_at + timedelta(minutes=40)) == []
    nudge = _posted(h.fake, "no update for 31m")
    assert nudge.params["channel"] == channel
    assert "Unassigned roles: commander, comms, scribe" in json.dumps(nudge.params["blocks"])

    h.sender.block_action(POST_UPDATE_ACTION, str(inc.id), user=REPORTER, channel=channel)
    opened = h.fake.wait_for(lambda f: next(iter(f.calls_to("views.open")), None))
    view = opened.params["view"]
    assert (json.loads(view) if isinstance(view, str) else view)["callback_id"] == POST_UPDATE_VIEW

    values = {"update": {"text": {"type": "plain_text_input", "value": "Error rate back to normal"}}}
    refused = h.sender.view_submission(POST_UPDATE_VIEW, values, user="U0STRANGER", private_metadata=str(inc.id))
    assert refused.json()["response_action"] == "errors" and "join it first" in refused.json()["errors"]["update"]
    h.sender.view_submission(POST_UPDATE_VIEW, values, user=REPORTER, private_metadata=str(inc.id))
    _posted(h.fake, "Error rate back to normal")
    with h.ctx.session() as s:
        update = s.exec(select(TimelineEvent).where(TimelineEvent.kind == "update")).one()
    assert update.actor_id == REPORTER
    # The update resets the clock: no nudge until 30 minutes after it.
    assert service.nudge_updates(h.ctx, now=update.at + timedelta(minutes=20)) == []


def test_overdue_followup_reminds_its_owner_once_per_sla_and_is_flagged(harness_factory):
    h = harness_factory({**BASE_CONFIG, "followups": {"sla": {"sev2": "7d"}}})
    channel = h.declare("sev2 Checkout API returning 500s")
    h.command(f"followup Add an alert on checkout 5xx ratio <@{BOB}>", channel=channel)
    _posted(h.fake, "Follow-up #1")
    with h.ctx.session() as s:
        created = s.exec(select(FollowUp)).one().created_at
    assert service.remind_overdue(h.ctx, now=created + timedelta(days=6)) == []
    assert service.remind_overdue(h.ctx, now=created + timedelta(days=7, hours=1)) == [1]
    assert service.remind_overdue(h.ctx, now=created + timedelta(days=8)) == []
    reminder = _posted(h.fake, "is overdue")
    assert reminder.params["channel"].startswith("D") and "the SEV2 target is 7d" in reminder.params["text"]
    overdue = service.overdue_followups(h.ctx, now=created + timedelta(days=8))
    assert [(d["id"], d["severity"], d["sla"]) for d in overdue] == [(1, "sev2", "7d")]
    listed = _run(h, "followups", channel, "Open follow-ups")
    assert "overdue" not in json.dumps(listed["blocks"])  # listed now: still within its SLA
