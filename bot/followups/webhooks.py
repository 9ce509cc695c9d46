"""Tracker webhooks (plain Python): verify a delivery and read which issue closed or reopened.

GitHub `issues` events are signed with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; Jira Cloud
webhooks carry a shared secret as `?token=` in the URL they were given (or `Authorization: Bearer`)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass


class Malformed(ValueError):
    """The body is not the documented payload; the message says what is missing."""


@dataclass(frozen=True)
class UpstreamChange:
    """An issue that closed (`closed=True`) or reopened upstream; `delivery_id` makes redeliveries no-ops."""

    tracker: str
    project: str
    key: str
    closed: bool
    delivery_id: str | None


def github_signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.strip())


def token_ok(secret: str, given: str | None) -> bool:
    return bool(secret) and bool(given) and hmac.compare_digest(secret.encode(), given.encode())


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Malformed("the body is not JSON") from None
    if not isinstance(data, dict):
        raise Malformed("the body is not a JSON object")
    return data


def _path(data: dict, *keys: str):
    value = data
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def parse_github(event: str | None, delivery: str | None, body: bytes) -> UpstreamChange | None:
    """The change an `issues` delivery reports; None for other events and actions (ignored)."""
    data = _json(body)
    if event != "issues" or data.get("action") not in ("closed", "reopened"):
        return None
    number, repo = _path(data, "issue", "number"), _path(data, "repository", "full_name")
    if not isinstance(number, int) or not isinstance(repo, str):
        raise Malformed("an issues event needs issue.number and repository.full_name")
    # Without X-GitHub-Delivery only the state check keeps a repeat from doing anything twice.
    return UpstreamChange("github", repo, str(number), data["action"] == "closed",
                          f"github:{delivery}" if delivery else None)


def parse_jira(body: bytes) -> UpstreamChange | None:
    """The change a `jira:issue_updated` delivery reports (done = status category `done`); None otherwise."""
    data = _json(body)
    if data.get("webhookEvent") != "jira:issue_updated":
        return None
    key = _path(data, "issue", "key")
    category = _path(data, "issue", "fields", "status", "statusCategory", "key")
    if not isinstance(key, str) or not isinstance(category, str):
        raise Malformed("jira:issue_updated needs issue.key and issue.fields.status.statusCategory.key")
    project = _path(data, "issue", "fields", "project", "key") or key.rsplit("-", 1)[0]
    stamp = data.get("timestamp", "")
    return UpstreamChange("jira", str(project), key, category == "done", f"jira:{key}:{stamp}:{category}")
