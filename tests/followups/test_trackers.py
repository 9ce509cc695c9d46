"""GitHub and Jira clients against respx stand-ins honouring the documented request and response shapes."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import respx

from bot.followups.domain import FollowupsConfig, Tracker
from bot.followups.trackers import IssueDraft, TrackerError, create_issue, is_closed
from tests.followups.conftest import fixture_json

GH = "https://github.example/api/v3"
JIRA = "https://acme.atlassian.net"
DRAFT = IssueDraft(title="[INC-3] Add an alert on 5xx", text="Add an alert on 5xx", incident_label="INC-3",
                   incident_url="https://slack.com/app_redirect?channel=C1", owner="Bob")


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_test")
    monkeypatch.setenv("JIRA_URL", JIRA + "/")
    monkeypatch.setenv("JIRA_EMAIL", "ops@acme.example")
    monkeypatch.setenv("JIRA_API_TOKEN", "jira-secret")


@respx.mock
def test_github_issue_is_created_with_token_and_incident_link(env):
    route = respx.post(f"{GH}/repos/acme/checkout/issues").mock(
        return_value=httpx.Response(201, json=fixture_json("github_issue_201.json")))
    created = create_issue(FollowupsConfig(github_api_url=GH), Tracker("github", "acme/checkout"), DRAFT)
    assert (created.key, created.url) == ("1347", "https://github.com/acme/checkout/issues/1347")
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer ghp_test"
    assert request.headers["Accept"] == "application/vnd.github+json"
    body = json.loads(request.content)
    assert body["title"] == DRAFT.title
    assert "[INC-3](https://slack.com/app_redirect?channel=C1)" in body["body"] and "Owner: Bob" in body["body"]


@respx.mock
def test_jira_issue_uses_basic_auth_and_an_adf_description(env):
    route = respx.post(f"{JIRA}/rest/api/3/issue").mock(
        return_value=httpx.Response(201, json=fixture_json("jira_issue_created_201.json")))
    created = create_issue(FollowupsConfig(), Tracker("jira", "OPS"), DRAFT)
    assert (created.key, created.url) == ("ED-24", f"{JIRA}/browse/ED-24")
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"ops@acme.example:jira-secret").decode()
    fields = json.loads(request.content)["fields"]
    assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Task"}
    assert fields["summary"] == DRAFT.title and fields["description"]["type"] == "doc"


@respx.mock
def test_status_sync_reads_closed_and_done(env):
    respx.get(f"{GH}/repos/acme/checkout/issues/1347").mock(
        return_value=httpx.Response(200, json={**fixture_json("github_issue_201.json"), "state": "closed"}))
    jira = respx.get(f"{JIRA}/rest/api/3/issue/ED-24").mock(
        return_value=httpx.Response(200, json=fixture_json("jira_issue_status_done.json")))
    assert is_closed(FollowupsConfig(github_api_url=GH), Tracker("github", "acme/checkout"), "1347") is True
    assert is_closed(FollowupsConfig(), Tracker("jira", "OPS"), "ED-24") is True
    assert jira.calls.last.request.url.params["fields"] == "status"


@respx.mock
def test_refusals_and_missing_credentials_are_clear_errors(env, monkeypatch):
    respx.post(f"{GH}/repos/acme/checkout/issues").mock(
        return_value=httpx.Response(401, json={"message": "Bad credentials", "documentation_url": "https://docs"}))
    with pytest.raises(TrackerError, match="creating the GitHub issue failed: HTTP 401 Bad credentials"):
        create_issue(FollowupsConfig(github_api_url=GH), Tracker("github", "acme/checkout"), DRAFT)
    respx.post(f"{JIRA}/rest/api/3/issue").mock(
        return_value=httpx.Response(400, json={"errorMessages": [], "errors": {"project": "project is required"}}))
    with pytest.raises(TrackerError, match="HTTP 400 .*project is required"):
        create_issue(FollowupsConfig(), Tracker("jira", "OPS"), DRAFT)
    monkeypatch.delenv("JIRA_API_TOKEN")
    with pytest.raises(TrackerError, match="JIRA_API_TOKEN is not set"):
        create_issue(FollowupsConfig(), Tracker("jira", "OPS"), DRAFT)
