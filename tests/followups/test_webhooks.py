"""Tracker webhooks: `POST /webhooks/github` (X-Hub-Signature-256) and `POST /webhooks/jira` (shared token)
against the running app, with the documented payload shapes (fixtures/)."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from sqlmodel import select

from bot.followups import store, webhooks
from storage.models import FollowUp, TimelineEvent
from storage.tables_followups import FollowUpIssue, WebhookDelivery
from tests.followups.conftest import FIXTURES, fixture_json
from tests.followups.test_followups_app import CONFIG, ISSUES, _posted, github  # noqa: F401 - fixture

SECRET = "gh-webhook-secret"
JIRA_SECRET = "jira-webhook-secret"


@pytest.fixture
def secrets(monkeypatch):
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("JIRA_WEBHOOK_SECRET", JIRA_SECRET)


def _sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _github(h, body: bytes, *, signature: str | None = "sign", delivery: str = "d-1", event: str = "issues"):
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json"}
    if signature:
        headers["X-Hub-Signature-256"] = _sign(body) if signature == "sign" else signature
    return httpx.post(f"{h.running.url}/webhooks/github", content=body, headers=headers)


def _event(action: str, number: int = 1347, repo: str = "acme/checkout") -> bytes:
    data = fixture_json("github_issues_closed_event.json")
    data["action"], data["issue"]["number"], data["repository"]["full_name"] = action, number, repo
    return json.dumps(data).encode()


def _with_github_issue(h, github) -> str:  # noqa: F811
    github.post(ISSUES).mock(return_value=httpx.Response(201, json=fixture_json("github_issue_201.json")))
    channel = h.declare("sev2 Checkout API returning 500s")
    h.command("followup Add an alert on checkout 5xx ratio", channel=channel)
    _posted(h.fake, "GitHub issue")
    return channel


def _done(h) -> bool:
    with h.ctx.session() as s:
        return s.exec(select(FollowUp)).one().done


def test_github_close_marks_done_once_and_reopen_reopens(harness_factory, github, secrets):  # noqa: F811
    h = harness_factory(CONFIG)
    channel = _with_github_issue(h, github)
    resp = _github(h, _event("closed"), delivery="d-1")
    assert (resp.status_code, resp.json()["result"]) == (200, "applied")
    assert _done(h) is True
    note = _posted(h.fake, "Follow-up #1 is done")
    assert note.params["channel"] == channel
    # GitHub redelivers the same delivery: nothing happens twice.
    assert _github(h, _event("closed"), delivery="d-1").json()["result"] == "duplicate"
    assert _github(h, _event("closed"), delivery="d-2").json()["result"] == "unchanged"
    assert _github(h, _event("reopened"), delivery="d-3").json()["result"] == "applied"
    assert _done(h) is False
    _posted(h.fake, "Follow-up #1 is open again")
    with h.ctx.session() as s:
        kinds = [e.kind for e in s.exec(select(TimelineEvent))]
        assert s.exec(select(FollowUpIssue)).one().state == "open"
        assert len(s.exec(select(WebhookDelivery)).all()) == 3
    assert kinds.count("followup_done") == 1 and kinds.count("followup_reopened") == 1
    notes = [c for c in h.fake.calls_to("chat.postMessage") if "Follow-up #1 is done" in (c.params.get("text") or "")]
    assert len(notes) == 1


def test_github_refuses_unsigned_and_wrong_signatures(harness_factory, github, secrets):  # noqa: F811
    h = harness_factory(CONFIG)
    _with_github_issue(h, github)
    body = _event("closed")
    assert _github(h, body, signature=None).status_code == 401
    assert _github(h, body, signature=_sign(body, "not-the-secret")).status_code == 401
    tampered = _github(h, _event("closed", number=1), signature=_sign(body))
    assert tampered.status_code == 401 and "X-Hub-Signature-256" in tampered.json()["error"]
    assert _done(h) is False


def test_github_malformed_unknown_and_other_events(harness_factory, github, secrets):  # noqa: F811
    h = harness_factory(CONFIG)
    _with_github_issue(h, github)
    assert _github(h, b"{not json").status_code == 400
    assert _github(h, json.dumps({"action": "closed", "issue": {}}).encode()).status_code == 400
    unknown = _github(h, _event("closed", number=99))
    assert (unknown.status_code, unknown.json()["result"]) == (200, "ignored")
    assert _github(h, _event("closed"), event="push").json()["result"] == "ignored"
    assert _github(h, _event("labeled")).json()["result"] == "ignored"
    assert _done(h) is False


def test_without_a_configured_secret_every_delivery_is_refused(harness_factory, github, monkeypatch):  # noqa: F811
    monkeypatch.delenv("GITHUB_WEBHOOK_SECRET", raising=False)
    h = harness_factory(CONFIG)
    body = _event("closed")
    assert _github(h, body, signature=_sign(body, "")).status_code == 401


def _jira_issue(h) -> None:
    channel = h.declare("sev2 Search is slow")
    h.command("followup Rotate the leaked key", channel=channel)
    _posted(h.fake, "Follow-up #1")
    with h.ctx.session() as s:
        store.record_issue(s, 1, tracker="jira", project="OPS", key="OPS-7",
                           url="https://acme.atlassian.net/browse/OPS-7", actor=None)


def _jira(h, body: bytes, token: str | None = JIRA_SECRET):
    params = {"token": token} if token else {}
    return httpx.post(f"{h.running.url}/webhooks/jira", params=params, content=body,
                      headers={"Content-Type": "application/json"})


def test_jira_done_marks_done_and_back_to_progress_reopens(harness_factory, secrets):
    h = harness_factory(CONFIG)
    _jira_issue(h)
    body = (FIXTURES / "jira_issue_updated_done_event.json").read_bytes()
    assert _jira(h, body, token=None).status_code == 401
    assert _jira(h, body, token="wrong").status_code == 401
    assert _jira(h, body).json()["result"] == "applied"
    assert _jira(h, body).json()["result"] == "duplicate"
    assert _done(h) is True
    _posted(h.fake, "Follow-up #1 is done")
    data = json.loads(body)
    data["timestamp"] += 60000
    data["issue"]["fields"]["status"]["statusCategory"]["key"] = "indeterminate"
    assert _jira(h, json.dumps(data).encode()).json()["result"] == "applied"
    assert _done(h) is False
    assert _jira(h, b"[]").status_code == 400
    data["issue"]["key"] = "OPS-404"
    assert _jira(h, json.dumps(data).encode()).json()["result"] == "ignored"


def test_parsers_read_the_documented_shapes():
    change = webhooks.parse_github("issues", "abc", (FIXTURES / "github_issues_closed_event.json").read_bytes())
    assert (change.tracker, change.project, change.key, change.closed, change.delivery_id) == (
        "github", "acme/checkout", "1347", True, "github:abc")
    jira = webhooks.parse_jira((FIXTURES / "jira_issue_updated_done_event.json").read_bytes())
    assert (jira.tracker, jira.project, jira.key, jira.closed) == ("jira", "OPS", "OPS-7", True)
    assert webhooks.parse_jira(json.dumps({"webhookEvent": "jira:issue_created"}).encode()) is None
    assert webhooks.github_signature_ok("s", b"x", _sign(b"x", "s"))
    assert not webhooks.github_signature_ok("s", b"x", "sha1=" + hashlib.sha1(b"x").hexdigest())
