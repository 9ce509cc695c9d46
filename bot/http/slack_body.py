"""Parsing what Slack POSTs to `/slack/events` ourselves, so bolt never guesses: bolt treats any form body that
contains the substring "payload" as an interaction, which drops slash commands such as
`/incident declare sev2 Webhook payload rejected`."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import BoltRequest
from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context

from bot.http.json_guard import InputRejected, parse_json_safely

MAX_FORM_FIELDS = 200


@dataclass(frozen=True)
class SlackBody:
    kind: str  # "command", "interaction", "event" (JSON: Events API, url_verification) or "other" (ssl_check)
    data: dict[str, Any]


def parse_slack_body(text: str, content_type: str | None) -> SlackBody:
    """Classify and parse a verified Slack body, or InputRejected with the reason."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json":
        data = parse_json_safely(text)
        if not isinstance(data, dict):
            raise InputRejected("JSON body must be an object")
        problem = _event_shape_problem(data)
        if problem:
            raise InputRejected(problem)
        return SlackBody("event", data)
    if "\x00" in text:
        raise InputRejected("body contains a NUL character")
    try:
        fields = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise InputRejected("form body has too many fields") from None
    form = dict(fields)
    if any("\x00" in k or "\x00" in v for k, v in fields):
        raise InputRejected("the text contains a NUL character", "command" if "command" in form else None)
    if "command" in form:
        return SlackBody("command", form)
    if "payload" in form:
        payload = parse_json_safely(form["payload"])
        problem = _interaction_shape_problem(payload)
        if problem:
            raise InputRejected(problem)
        return SlackBody("interaction", payload)
    return SlackBody("other", form)


def _interaction_shape_problem(payload: Any) -> str | None:
    """The structural facts bolt's own code indexes without checking; anything else is for the listeners."""
    if not isinstance(payload, dict):
        return "payload must be a JSON object"
    kind = payload.get("type")
    if not isinstance(kind, str):
        return "payload.type must be a string"
    for key in ("team", "channel", "container", "message", "enterprise", "user"):
        value = payload.get(key)
        if value is not None and not isinstance(value, (dict, str)):
            return f"payload.{key} has the wrong type"
    if isinstance(payload.get("user"), dict) and not isinstance(payload["user"].get("id", ""), str):
        return "payload.user.id must be a string"
    if "actions" in payload or kind == "block_actions":
        actions = payload.get("actions")
        if not (isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)):
            return "payload.actions must be a non-empty list of objects"
        for action in actions:
            for key in ("action_id", "block_id", "value"):
                if key in action and not isinstance(action[key], str):
                    return f"payload.actions[].{key} must be a string"
    if "view" in payload or kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        if not (isinstance(view, dict) and isinstance(view.get("type", "modal"), str)):
            return "payload.view must be an object"
        view.setdefault("type", "modal")  # bolt reads view.type unguarded; Slack always sends it
        if not isinstance(view.get("callback_id", ""), str):
            return "payload.view.callback_id must be a string"
    for key in ("response_url", "trigger_id", "callback_id"):
        if key in payload and not isinstance(payload[key], str):
            return f"payload.{key} must be a string"
    if "response_urls" in payload and not isinstance(payload["response_urls"], list):
        return "payload.response_urls must be a list"
    return None


def _event_shape_problem(body: dict[str, Any]) -> str | None:
    if "event" in body and not (isinstance(body["event"], dict) and isinstance(body["event"].get("type"), str)):
        return "event must be an object with a type"
    if not isinstance(body.get("type", ""), str):
        return "type must be a string"
    return None


class ParsedBoltRequest(BoltRequest):
    """A BoltRequest whose body we parsed (bolt keeps the raw text for its own signature check)."""

    def __init__(self, *, raw_body: str, parsed: dict[str, Any], query: Any, headers: dict[str, list[str]]):
        super().__init__(body="", query=query, headers=headers)
        self.raw_body = raw_body
        self.body = parsed
        self.context = build_context(BoltContext({}), parsed)

    def to_copyable(self) -> "ParsedBoltRequest":
        return ParsedBoltRequest(raw_body=self.raw_body, parsed=copy.deepcopy(self.body),
                                 query=self.query, headers=self.headers)
