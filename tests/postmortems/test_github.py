"""Pull-request mode: push to a local bare repo, then open/update the PR against a respx-mocked GitHub API.

Payload shapes follow the public GitHub samples in fixtures/ (see fixtures/README.md).
"""

from __future__ import annotations

import copy
import json
import os

import httpx
import pytest
import respx

from bot.postmortems.github import BODY_MARKER, GitHubError, GitHubPulls
from bot.postmortems.domain.config import GitHubConfig
from bot.postmortems.publishing import PublishError, publish
from bot.postmortems.domain.render import render_markdown
from tests.postmortems.conftest import TITLE, fixture_json, git

API = "https://api.github.com"
PULLS = f"{API}/repos/acme/postmortems/pulls"
ENV = {"PATH": os.environ["PATH"], "GITHUB_TOKEN": "ghp_test_token"}
REQUEST_SAMPLE = fixture_json("github_create_pull_request_request.json")
RESPONSE_SAMPLE = fixture_json("github_create_pull_request_response_201.json")


def pr_config(config_for, **overrides):
    return config_for(mode="pull-request", github={"repo": "acme/postmortems", "token_env": "GITHUB_TOKEN"}, **overrides)


def open_pull(body: str, number: int = 1347) -> dict:
    pull = copy.deepcopy(RESPONSE_SAMPLE)
    pull.update(number=number, body=body, html_url=f"https://github.com/acme/postmortems/pull/{number}")
    return pull


@respx.mock
def test_creates_pull_request_when_none_is_open(remote, config_for, facts):
    lookup = respx.get(PULLS).mock(return_value=httpx.Response(200, json=[]))
    create = respx.post(PULLS).mock(return_value=httpx.Response(201, json=RESPONSE_SAMPLE))
    with httpx.Client() as client:
        result = publish(pr_config(config_for), facts, render_markdown(facts), http_client=client, environ=ENV)

    assert result.pushed
    assert result.pr_url == RESPONSE_SAMPLE["html_url"]
    # The branch really is in the remote.
    assert git("--git-dir", str(remote), "rev-parse", "postmortem/inc-42").strip() == result.commit_sha

    params = lookup.calls.last.request.url.params
    assert params["head"] == "acme:postmortem/inc-42" and params["state"] == "open"
    request = create.calls.last.request
    sent = json.loads(request.content)
    assert set(sent) == set(REQUEST_SAMPLE)  # same shape as GitHub's documented example
    assert sent["head"] == "acme:postmortem/inc-42"
    assert sent["base"] == "main"
    assert sent["title"] == f"Postmortem for INC-42: {TITLE}"
    assert sent["body"].startswith(BODY_MARKER)
    assert result.path in sent["body"]
    assert request.headers["authorization"] == "Bearer ghp_test_token"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["x-github-api-version"] == "2022-11-28"


@respx.mock
def test_reuses_open_pull_request_and_refreshes_our_body(remote, config_for, facts):
    respx.get(PULLS).mock(return_value=httpx.Response(200, json=[open_pull(f"{BODY_MARKER}\nold body", 7)]))
    create = respx.post(PULLS).mock(return_value=httpx.Response(201, json=RESPONSE_SAMPLE))
    patch = respx.patch(f"{PULLS}/7").mock(
        side_effect=lambda request: httpx.Response(200, json=open_pull(json.loads(request.content)["body"], 7))
    )
    with httpx.Client() as client:
        result = publish(pr_config(config_for), facts, render_markdown(facts), http_client=client, environ=ENV)
    assert result.pr_url == "https://github.com/acme/postmortems/pull/7"
    assert not create.called
    assert patch.called
    assert json.loads(patch.calls.last.request.content)["title"] == f"Postmortem for INC-42: {TITLE}"


@respx.mock
def test_human_edited_pull_request_body_is_left_alone(remote, config_for, facts):
    respx.get(PULLS).mock(return_value=httpx.Response(200, json=[open_pull("Written by a person", 9)]))
    patch = respx.patch(f"{PULLS}/9").mock(return_value=httpx.Response(200, json={}))
    with httpx.Client() as client:
        result = publish(pr_config(config_for), facts, render_markdown(facts), http_client=client, environ=ENV)
    assert result.pr_url == "https://github.com/acme/postmortems/pull/9"
    assert not patch.called


@respx.mock
def test_republish_without_changes_still_finds_the_pull_request(remote, config_for, facts):
    respx.get(PULLS).mock(side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[open_pull("x", 5)])])
    respx.post(PULLS).mock(return_value=httpx.Response(201, json=open_pull("x", 5)))
    config = pr_config(config_for)
    with httpx.Client() as client:
        first = publish(config, facts, render_markdown(facts), http_client=client, environ=ENV)
        second = publish(config, facts, render_markdown(facts), http_client=client, environ=ENV)
    assert first.pushed and not second.pushed
    assert first.pr_url == second.pr_url == "https://github.com/acme/postmortems/pull/5"


@respx.mock
def test_race_on_create_reuses_existing(remote, config_for, facts):
    respx.get(PULLS).mock(side_effect=[httpx.Response(200, json=[]), httpx.Response(200, json=[open_pull("x", 11)])])
    respx.post(PULLS).mock(
        return_value=httpx.Response(
            422,
            json={"message": "Validation Failed",
                  "errors": [{"resource": "PullRequest", "code": "custom",
                              "message": "A pull request already exists for acme:postmortem/inc-42."}]},
        )
    )
    with httpx.Client() as client:
        result = publish(pr_config(config_for), facts, render_markdown(facts), http_client=client, environ=ENV)
    assert result.pr_url == "https://github.com/acme/postmortems/pull/11"


def test_missing_token_fails_before_pushing(remote, config_for, facts):
    with pytest.raises(PublishError, match=r"\$GITHUB_TOKEN"):
        publish(pr_config(config_for), facts, render_markdown(facts), environ={"PATH": ENV["PATH"]})
    assert git("--git-dir", str(remote), "branch", "--list", "postmortem/*").strip() == ""


@respx.mock
def test_api_failure_after_push_reports_partial_result(remote, config_for, facts):
    respx.get(PULLS).mock(return_value=httpx.Response(401, json={"message": "Bad credentials"}))
    with httpx.Client() as client, pytest.raises(PublishError) as info:
        publish(pr_config(config_for), facts, render_markdown(facts), http_client=client, environ=ENV)
    message = str(info.value)
    assert "pushed to postmortem/inc-42" in message and "Bad credentials" in message and "GITHUB_TOKEN" in message
    assert "ghp_test_token" not in message
    assert info.value.partial is not None and info.value.partial.pushed


@respx.mock
def test_configurable_api_url_and_draft():
    api = "https://ghe.example.com/api/v3"
    respx.get(f"{api}/repos/acme/pm/pulls").mock(return_value=httpx.Response(200, json=[]))
    create = respx.post(f"{api}/repos/acme/pm/pulls").mock(return_value=httpx.Response(201, json=RESPONSE_SAMPLE))
    pulls = GitHubPulls(GitHubConfig(repo="acme/pm", api_url=api + "/", draft=True), "t", httpx.Client())
    pull = pulls.ensure(branch="postmortem/inc-1", base="main", title="t", body="b")
    assert pull["number"] == 1347
    assert json.loads(create.calls.last.request.content)["draft"] is True


@respx.mock
def test_server_errors_are_retried_once():
    sleeps: list[float] = []
    route = respx.get(PULLS).mock(side_effect=[httpx.Response(502), httpx.Response(200, json=[])])
    pulls = GitHubPulls(GitHubConfig(repo="acme/postmortems"), "t", httpx.Client(), sleep=sleeps.append)
    assert pulls.find_open("b") is None
    assert route.call_count == 2 and sleeps == [1.0]


@respx.mock
@pytest.mark.parametrize(
    "status, headers, expected",
    [
        (403, {"x-ratelimit-remaining": "0"}, "rate limit"),
        (403, {}, "lacks permission"),
        (404, {}, "not found"),
        (500, {}, "HTTP 500"),
    ],
)
def test_api_errors_are_explained(status, headers, expected):
    respx.get(PULLS).mock(return_value=httpx.Response(status, headers=headers, json={"message": "nope"}))
    pulls = GitHubPulls(GitHubConfig(repo="acme/postmortems"), "t", httpx.Client(), sleep=lambda s: None)
    with pytest.raises(GitHubError, match=expected):
        pulls.find_open("b")


@respx.mock
def test_network_error_is_reported():
    respx.get(PULLS).mock(side_effect=httpx.ConnectError("refused"))
    pulls = GitHubPulls(GitHubConfig(repo="acme/postmortems"), "t", httpx.Client(), sleep=lambda s: None)
    with pytest.raises(GitHubError, match="cannot reach https://api.github.com"):
        pulls.find_open("b")
