"""GitHub Issues (REST) and Jira Cloud (REST v3) over httpx: create an issue, read whether it is closed."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from bot.followups.domain import FollowupsConfig, Tracker, adf_description, markdown_description

TIMEOUT = 15.0


class TrackerError(Exception):
    """The tracker refused or could not be reached; the message says what to check."""


@dataclass(frozen=True)
class CreatedIssue:
    key: str  # GitHub issue number or Jira issue key
    url: str


@dataclass(frozen=True)
class IssueDraft:
    title: str
    text: str
    incident_label: str
    incident_url: str
    owner: str | None


def _env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise TrackerError(f"{name} is not set")
    return value


def _check(response: httpx.Response, what: str) -> dict:
    if response.status_code >= 400:
        try:
            body = response.json()
            detail = body.get("message") or "; ".join(body.get("errorMessages") or []) or str(body.get("errors") or "")
        except ValueError:
            detail = response.text[:200]
        raise TrackerError(f"{what} failed: HTTP {response.status_code} {detail}".strip())
    return response.json()


def _send(method: str, url: str, what: str, **kwargs) -> dict:
    try:
        with httpx.Client(timeout=TIMEOUT) as client:
            return _check(client.request(method, url, **kwargs), what)
    except httpx.HTTPError as exc:
        raise TrackerError(f"{what} failed: {type(exc).__name__}") from None


def _github_headers(cfg: FollowupsConfig) -> dict[str, str]:
    return {"Authorization": f"Bearer {_env(cfg.github_token_env)}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28"}


def _jira(cfg: FollowupsConfig) -> tuple[str, tuple[str, str]]:
    return _env(cfg.jira_url_env).rstrip("/"), (_env(cfg.jira_email_env), _env(cfg.jira_token_env))


def create_issue(cfg: FollowupsConfig, tracker: Tracker, draft: IssueDraft) -> CreatedIssue:
    """Open the issue upstream; raises TrackerError."""
    if tracker.kind == "github":
        body = {"title": draft.title, "body": markdown_description(draft.text, draft.incident_label, draft.incident_url,
                                                                    draft.owner), "labels": ["follow-up"]}
        data = _send("POST", f"{cfg.github_api_url.rstrip('/')}/repos/{tracker.project}/issues", "creating the GitHub issue",
                     json=body, headers=_github_headers(cfg))
        return CreatedIssue(key=str(data["number"]), url=str(data["html_url"]))
    base, auth = _jira(cfg)
    fields = {"project": {"key": tracker.project}, "summary": draft.title, "issuetype": {"name": cfg.jira_issue_type},
              "description": adf_description(draft.text, draft.incident_label, draft.incident_url, draft.owner)}
    data = _send("POST", f"{base}/rest/api/3/issue", "creating the Jira issue", json={"fields": fields}, auth=auth)
    return CreatedIssue(key=str(data["key"]), url=f"{base}/browse/{data['key']}")


def is_closed(cfg: FollowupsConfig, tracker: Tracker, key: str) -> bool:
    """True once the issue is closed (GitHub) or in the Done status category (Jira); raises TrackerError."""
    if tracker.kind == "github":
        data = _send("GET", f"{cfg.github_api_url.rstrip('/')}/repos/{tracker.project}/issues/{key}",
                     "reading the GitHub issue", headers=_github_headers(cfg))
        return data.get("state") == "closed"
    base, auth = _jira(cfg)
    data = _send("GET", f"{base}/rest/api/3/issue/{key}", "reading the Jira issue", params={"fields": "status"}, auth=auth)
    status = (data.get("fields") or {}).get("status") or {}
    return (status.get("statusCategory") or {}).get("key") == "done"
