"""Open or update the pull request for a published postmortem branch (GitHub REST API over httpx).

Only two endpoints are used: `GET /repos/{owner}/{repo}/pulls?head=owner:branch&state=open` to find the open pull
request for the branch, and `POST /repos/{owner}/{repo}/pulls` to create one; an existing pull request we opened is
refreshed with `PATCH /repos/{owner}/{repo}/pulls/{number}`. The HTTP client is injectable so tests (respx) and the
app (shared client, proxies) control transport.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from bot.postmortems.domain.config import GitHubConfig

API_VERSION = "2022-11-28"
# Marks pull request bodies Firewatch wrote: only those are rewritten on re-publish (a human-edited body is kept).
BODY_MARKER = "<!-- firewatch:postmortem -->"
_RETRY_STATUS = {502, 503, 504}


class GitHubError(Exception):
    """The GitHub API refused or failed; the message says what to check."""


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(data, dict):
        text = str(data.get("message", ""))
        details = [str(e.get("message") or e.get("code")) for e in data.get("errors", []) if isinstance(e, dict)]
        return "; ".join([text, *details]).strip("; ") or response.reason_phrase
    return response.reason_phrase


class GitHubPulls:
    """Minimal pull request client for one repository."""

    def __init__(
        self,
        config: GitHubConfig,
        token: str,
        client: httpx.Client | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not config.repo:
            raise GitHubError("github.repo is not configured")
        self.config = config
        self._token = token
        self._client = client
        self._sleep = sleep

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "firewatch-postmortems",
        }
        url = f"{self.config.api_url}{path}"
        client = self._client or httpx.Client(timeout=30.0)
        try:
            for attempt in range(2):
                try:
                    response = client.request(method, url, headers=headers, **kwargs)
                except httpx.TransportError as exc:
                    if attempt == 0:
                        self._sleep(1.0)
                        continue
                    raise GitHubError(f"cannot reach {self.config.api_url}: {exc.__class__.__name__}: {exc}") from None
                if response.status_code in _RETRY_STATUS and attempt == 0:
                    self._sleep(1.0)
                    continue
                return response
            raise AssertionError("unreachable")
        finally:
            if self._client is None:
                client.close()

    def _check(self, response: httpx.Response, action: str) -> Any:
        if response.is_success:
            return response.json()
        status = response.status_code
        detail = _message(response)
        if status == 401:
            hint = f"the token in ${self.config.token_env} is missing, expired or invalid"
        elif status == 403 and response.headers.get("x-ratelimit-remaining") == "0":
            hint = "the API rate limit is exhausted; try again later"
        elif status == 403:
            hint = f"the token in ${self.config.token_env} lacks permission (it needs pull requests: write)"
        elif status == 404:
            hint = f"repository {self.config.repo} not found, or the token cannot see it"
        else:
            hint = "see the message above"
        raise GitHubError(f"GitHub {action} failed (HTTP {status}: {detail}); {hint}")

    def find_open(self, branch: str) -> dict[str, Any] | None:
        """The open pull request whose head is `branch` in this repository, if any."""
        response = self._request(
            "GET",
            f"/repos/{self.config.owner}/{self.config.name}/pulls",
            params={"head": f"{self.config.owner}:{branch}", "state": "open"},
        )
        pulls = self._check(response, "pull request lookup")
        return pulls[0] if isinstance(pulls, list) and pulls else None

    def create(self, *, title: str, body: str, head: str, base: str) -> dict[str, Any]:
        payload: dict[str, Any] = {"title": title, "body": body, "head": f"{self.config.owner}:{head}", "base": base}
        if self.config.draft:
            payload["draft"] = True
        response = self._request("POST", f"/repos/{self.config.owner}/{self.config.name}/pulls", json=payload)
        if response.status_code == 422 and "already exists" in _message(response).lower():
            # Lost a race with another publish (or GitHub's list was stale): reuse the one that exists.
            existing = self.find_open(head)
            if existing is not None:
                return existing
        return self._check(response, "pull request creation")

    def update(self, number: int, *, title: str, body: str) -> dict[str, Any]:
        response = self._request(
            "PATCH", f"/repos/{self.config.owner}/{self.config.name}/pulls/{number}", json={"title": title, "body": body}
        )
        return self._check(response, "pull request update")

    def ensure(self, *, branch: str, base: str, title: str, body: str) -> dict[str, Any]:
        """Reuse the open pull request for `branch` (refreshing a body Firewatch wrote) or open a new one."""
        body = f"{BODY_MARKER}\n{body}"
        existing = self.find_open(branch)
        if existing is None:
            return self.create(title=title, body=body, head=branch, base=base)
        if BODY_MARKER in (existing.get("body") or "") and (existing.get("title") != title or existing.get("body") != body):
            return self.update(int(existing["number"]), title=title, body=body)
        return existing
