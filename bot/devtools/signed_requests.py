"""Build and send correctly signed Slack requests (slash commands, events, interactions) to Firewatch's HTTP
endpoint, the way Slack does: HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.devtools.fake_slack import TEAM_ID

_event_ids = itertools.count(1)
_trigger_ids = itertools.count(1)


def sign(secret: str, timestamp: str, body: str) -> str:
    """The `X-Slack-Signature` value for `body` sent at `timestamp`."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    """Sends what Slack would send to `POST {app_url}/slack/events`."""

    def __init__(self, app_url: str, signing_secret: str, *, response_url: str = "http://127.0.0.1:9/response/x",
                 timeout: float = 10.0):
        self.events_url = app_url.rstrip("/") + "/slack/events"
        self.secret = signing_secret
        self.response_url = response_url
        self.http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def post(self, body: str, content_type: str, *, timestamp: int | None = None, secret: str | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        h = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(secret or self.secret, ts, body),
            **(headers or {}),
        }
        return self.http.post(self.events_url, content=body.encode(), headers=h)

    def command(self, command: str, text: str, *, user: str, channel: str = "C0GENERAL",
                channel_name: str = "general", trigger_id: str | None = None, **kw) -> httpx.Response:
        # Slack gives every command its own trigger_id; identical bodies are replays (and are run once).
        trigger_id = trigger_id or f"1337.{next(_trigger_ids)}.abcdef"
        body = urlencode({
            "token": "legacy-verification-token", "team_id": TEAM_ID, "team_domain": "firewatch-demo",
            "channel_id": channel, "channel_name": channel_name, "user_id": user, "user_name": user.lower(),
            "command": command, "text": text, "api_app_id": "A0FIREWATCH", "is_enterprise_install": "false",
            "response_url": self.response_url, "trigger_id": trigger_id,
        })
        return self.post(body, "application/x-www-form-urlencoded", **kw)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, retry_num: int | None = None,
              **kw) -> httpx.Response:
        payload = {
            "token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": "A0FIREWATCH",
            "event": event, "type": "event_callback", "event_id": event_id or f"Ev{next(_event_ids):08d}",
            "event_time": int(time.time()), "authed_users": [],
        }
        headers = kw.pop("headers", {}) or {}
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(payload), "application/json", headers=headers, **kw)

    def interaction(self, payload: dict[str, Any], **kw) -> httpx.Response:
        payload = {"team": {"id": TEAM_ID, "domain": "firewatch-demo"}, "api_app_id": "A0FIREWATCH",
                   "token": "legacy-verification-token", **payload}
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **kw)

    def block_action(self, action_id: str, value: str, *, user: str, channel: str | None = None,
                     message_ts: str | None = None, **kw) -> httpx.Response:
        payload: dict[str, Any] = {
            "type": "block_actions", "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "trigger_id": "1337.42.action", "response_url": self.response_url,
            "actions": [{"type": "button", "action_id": action_id, "block_id": action_id, "value": value,
                         "action_ts": str(time.time())}],
        }
        if channel:
            payload["channel"] = {"id": channel, "name": channel}
            payload["container"] = {"type": "message", "channel_id": channel, "message_ts": message_ts or "0"}
            payload["message"] = {"ts": message_ts or "0", "text": ""}
        return self.interaction(payload, **kw)

    def view_submission(self, callback_id: str, values: dict[str, dict[str, Any]], *, user: str,
                        private_metadata: str = "", **kw) -> httpx.Response:
        return self.interaction({
            "type": "view_submission", "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "trigger_id": "1337.42.view",
            "view": {"id": "V0SUBMIT", "type": "modal", "callback_id": callback_id,
                     "private_metadata": private_metadata, "state": {"values": values}, "blocks": []},
        }, **kw)
