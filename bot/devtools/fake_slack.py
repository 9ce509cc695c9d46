"""A local stand-in for the Slack Web API, on loopback.

It implements the methods Firewatch calls with the response shapes Slack documents, keeps enough state to answer
consistently (channels, members, messages, pins, user groups), records every call, and can inject failures:
`name_taken`, `ratelimited` (HTTP 429 with Retry-After) and HTTP 5xx, either for chosen calls (`fail`) or for a
random share of all calls (`chaos`); it can answer late (`slow`) or not until released (`hold`). It also accepts
posts to `response_url`s (`/response/...`) so slash-command replies can be observed.

Control endpoints for other processes: `GET /_fake/calls`, `POST /_fake/fail`, `POST /_fake/chaos`, `POST /_fake/message`,
`POST /_fake/reset`.

Strict mode (on by default; FIREWATCH_FAKE_SLACK_STRICT=0 turns it off) refuses what Slack would: an
unknown method or argument, a missing required argument, Block Kit that slack_sdk's models reject, over-long
topics or texts. Each refusal answers `ok: false` with Slack's error code and is kept in `violations`.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs, urlparse

from bot.devtools.slack_spec.checks import check_call

BOT_USER_ID = "UFIREWATCH"
TEAM_ID = "T0FIREWATCH"


@dataclass
class Call:
    """One recorded Web API call."""

    seq: int
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    answered_at: float | None = None  # when the answer left (later than `at` with `slow` or `hold`)


@dataclass
class Failure:
    method: str
    error: str | None = None  # Slack error code, returned as 200 {"ok": false}
    status: int | None = None  # HTTP status (429, 500, 503...)
    retry_after: int = 1
    times: int = 1
    match: dict[str, Any] | None = None  # only when these params match


@dataclass
class Chaos:
    """A share of all calls fails: half as HTTP 429 with Retry-After, half as HTTP 5xx (the call is not performed)."""

    rate: float
    retry_after: int = 1
    seed: int = 0
    exclude: tuple[str, ...] = ("auth.test", "apps.connections.open")
    injected: Counter = field(default_factory=lambda: Counter())

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def draw(self, method: str) -> Failure | None:
        if method in self.exclude or self._random.random() >= self.rate:
            return None
        status = 429 if self._random.random() < 0.5 else self._random.choice((500, 502, 503))
        self.injected[status] += 1
        return Failure(method, status=status, retry_after=self.retry_after)


@dataclass
class Violation:
    """A call Slack would have refused (strict mode)."""

    method: str
    error: str
    messages: list[str]
    params: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method}: {self.error} {'; '.join(self.messages)}"


# Every violation of every fake in this process, in order: a test fixture checks what a test added
# (see bot/devtools/slack_violations_fixture.py), even for fakes created or reset inside the test.
ALL_VIOLATIONS: list[Violation] = []


def strict_by_default() -> bool:
    """Strict unless FIREWATCH_FAKE_SLACK_STRICT=0: a call Slack would refuse must fail a test."""
    return os.environ.get("FIREWATCH_FAKE_SLACK_STRICT", "1") != "0"


class FakeSlack:
    """State and behaviour of the fake workspace (thread-safe)."""

    def __init__(self, strict: bool | None = None) -> None:
        self.strict = strict_by_default() if strict is None else strict
        self.upload_base = "http://127.0.0.1"  # where upload URLs point; the server sets its own address
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.calls: list[Call] = []
            self.violations: list[Violation] = []
            self.responses: list[dict[str, Any]] = []  # posts to response_url
            self.failures: list[Failure] = []
            self.latency: dict[str | None, float] = {}  # method (None: every method) -> seconds added
            self.holds: dict[str, threading.Event] = {}  # method -> answered only once the event is set
            self.chaos_mode: Chaos | None = None
            self.channels: dict[str, dict[str, Any]] = {}
            self.users: dict[str, dict[str, Any]] = {}
            self.usergroups: dict[str, list[str]] = {}
            self.views: dict[str, dict[str, Any]] = {}
            self._ids = itertools.count(1)
            self._last_ts = 0.0
            self.socket_url: str | None = None
            self.uploads: dict[str, dict[str, Any]] = {}  # file id -> announced name/length, bytes once posted
            self.add_user(BOT_USER_ID, "firewatch", tz="UTC", is_bot=True)

    # -- workspace set-up -------------------------------------------------------------------------------------
    def add_user(self, user_id: str, name: str, *, tz: str = "Europe/London", is_bot: bool = False) -> None:
        with self.lock:
            self.users[user_id] = {
                "id": user_id, "team_id": TEAM_ID, "name": name.lower(), "real_name": name, "tz": tz,
                "is_bot": is_bot, "deleted": False,
                "profile": {"real_name": name, "display_name": name, "email": f"{name.lower()}@example.com"},
            }

    def add_channel(self, channel_id: str, name: str, *, members: list[str] | None = None, private: bool = False) -> None:
        with self.lock:
            self.channels[channel_id] = self._channel(channel_id, name, private, members or [BOT_USER_ID])

    def post_user_message(self, channel: str, user: str, text: str) -> str:
        """A person writes in a channel (as the Slack client would); returns the message ts."""
        with self.lock:
            ts = self._ts()
            self.channels[channel]["messages"].append({"type": "message", "user": user, "text": text, "ts": ts})
            self.changed.notify_all()
            return ts

    def fail(self, method: str, *, error: str | None = None, status: int | None = None, retry_after: int = 1,
             times: int = 1, match: dict[str, Any] | None = None) -> None:
        """Make the next `times` calls of `method` fail."""
        with self.lock:
            self.failures.append(Failure(method, error, status, retry_after, times, match))

    def chaos(self, rate: float, *, retry_after: int = 1, seed: int = 0,
              exclude: tuple[str, ...] = ("auth.test", "apps.connections.open")) -> Chaos | None:
        """From now on fail `rate` of all Web API calls (0 turns it off); returns the knob, which counts what it
        injected by status."""
        with self.lock:
            self.chaos_mode = Chaos(rate, retry_after, seed, tuple(exclude)) if rate > 0 else None
            return self.chaos_mode

    def slow(self, method: str | None = None, seconds: float = 0.3) -> None:
        """Answer every call of `method` (every method when None) `seconds` late, as a slow Slack would. The call
        is recorded (its `seq`) when it arrives, so call order stays the order Firewatch made them in."""
        with self.lock:
            self.latency[method] = seconds

    def hold(self, method: str) -> threading.Event:
        """Keep every call of `method` unanswered until the returned event is set (a Slack stuck on it)."""
        with self.lock:
            return self.holds.setdefault(method, threading.Event())

    # -- observation ---------------------------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and c.status == 200 and c.response.get("ok")]

    def attempts(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Callable[["FakeSlack"], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate(self)` is truthy and return its value; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                value = predicate(self)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the fake Slack did not see the expected calls in time")
                self.changed.wait(min(remaining, 0.1))

    def messages(self, channel: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.channels.get(channel, {}).get("messages", []))

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        with self.lock:
            return next((c for c in self.channels.values() if c["name"] == name), None)

    # -- the Web API -------------------------------------------------------------------------------------------
    def handle(self, method: str, params: dict[str, Any], token: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self.lock:
            call = Call(seq=len(self.calls) + 1, method=method, params=params, at=time.time())
            self.calls.append(call)
            status, body, headers = self._dispatch(method, params, token)
            call.status, call.response = status, body
            self.changed.notify_all()
            delay = self.latency.get(method, self.latency.get(None, 0.0))
            held = self.holds.get(method)
        # Outside the lock: other calls go on meanwhile, as they would in Slack.
        if delay:
            time.sleep(delay)
        if held is not None:
            held.wait(60)
        call.answered_at = time.time()
        return status, body, headers

    def _dispatch(self, method: str, params: dict[str, Any], token: str | None):
        failure = self._take_failure(method, params)
        if failure is not None:
            if failure.status == 429:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(failure.retry_after)}
            if failure.status:
                return failure.status, {"ok": False, "error": "fatal_error"}, {}
            return 200, {"ok": False, "error": failure.error or "internal_error"}, {}
        if method == "apps.connections.open":
            # Socket Mode: the app-level token (xapp-) asks for a WebSocket URL.
            if not token or not token.startswith("xapp-"):
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            if not self.socket_url:
                return 200, {"ok": False, "error": "socket_mode_not_available"}, {}
            return 200, {"ok": True, "url": self.socket_url}, {}
        if not token or not token.startswith("xox"):
            return 200, {"ok": False, "error": "not_authed"}, {}
        if self.strict:
            rejection = check_call(method, params)
            if rejection is not None:
                violation = Violation(method, rejection.error, rejection.messages, params)
                self.violations.append(violation)
                ALL_VIOLATIONS.append(violation)
                body = {"ok": False, "error": rejection.error}
                if rejection.messages:
                    body["response_metadata"] = {"messages": rejection.messages}
                return 200, body, {}
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        try:
            return 200, handler(params), {}
        except _SlackError as err:
            return 200, {"ok": False, "error": err.code}, {}

    def _take_failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        for f in self.failures:
            if f.method != method or f.times <= 0:
                continue
            if f.match and any(str(params.get(k)) != str(v) for k, v in f.match.items()):
                continue
            f.times -= 1
            return f
        if self.chaos_mode is not None:
            return self.chaos_mode.draw(method)
        return None

    def _ts(self) -> str:
        # Real time to the microsecond (so timeline order is true), bumped to stay unique like Slack's.
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def _channel(self, cid: str, name: str, private: bool, members: list[str]) -> dict[str, Any]:
        return {"id": cid, "name": name, "is_private": private, "members": list(members), "topic": "",
                "messages": [], "pins": [], "created": int(time.time()), "is_archived": False}

    def _need_channel(self, params: dict[str, Any], key: str = "channel") -> dict[str, Any]:
        cid = params.get(key)
        if not cid:
            raise _SlackError("channel_not_found")
        ch = self.channels.get(cid)
        if ch is None:
            raise _SlackError("channel_not_found")
        return ch

    def m_auth_test(self, p):
        return {"ok": True, "url": "https://firewatch-demo.slack.com/", "team": "Firewatch Demo", "user": "firewatch",
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": "B0FIREWATCH", "is_enterprise_install": False}

    def m_conversations_create(self, p):
        name = str(p.get("name", ""))
        if not name:
            raise _SlackError("invalid_name_required")
        if len(name) > 80:
            raise _SlackError("invalid_name_maxlength")
        if any(ch not in "abcdefghijklmnopqrstuvwxyz0123456789-_" for ch in name):
            raise _SlackError("invalid_name_specials")
        if any(c["name"] == name for c in self.channels.values()):
            raise _SlackError("name_taken")
        private = str(p.get("is_private", "false")).lower() in ("true", "1")
        cid = ("G" if private else "C") + f"0FAKE{next(self._ids):04d}"
        ch = self._channel(cid, name, private, [BOT_USER_ID])
        self.channels[cid] = ch
        return {"ok": True, "channel": self._channel_view(ch)}

    def _channel_view(self, ch):
        return {"id": ch["id"], "name": ch["name"], "name_normalized": ch["name"], "is_channel": not ch["is_private"],
                "is_group": False, "is_im": False, "is_private": ch["is_private"], "is_archived": ch["is_archived"],
                "is_member": BOT_USER_ID in ch["members"], "created": ch["created"], "creator": BOT_USER_ID,
                "topic": {"value": ch["topic"], "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0}}

    def m_conversations_info(self, p):
        return {"ok": True, "channel": self._channel_view(self._need_channel(p))}

    def m_conversations_invite(self, p):
        ch = self._need_channel(p)
        if BOT_USER_ID not in ch["members"]:
            raise _SlackError("not_in_channel")
        users = [u for u in str(p.get("users", "")).split(",") if u]
        if not users:
            raise _SlackError("no_user")
        if len(users) > 1000:
            raise _SlackError("too_many_users")
        for u in users:
            if u not in self.users:
                raise _SlackError("user_not_found")
        if all(u in ch["members"] for u in users):
            raise _SlackError("already_in_channel")
        for u in users:
            if u not in ch["members"]:
                ch["members"].append(u)
        return {"ok": True, "channel": self._channel_view(ch)}

    def m_conversations_members(self, p):
        ch = self._need_channel(p)
        return {"ok": True, "members": list(ch["members"]), "response_metadata": {"next_cursor": ""}}

    def m_conversations_join(self, p):
        ch = self._need_channel(p)
        if BOT_USER_ID not in ch["members"]:
            ch["members"].append(BOT_USER_ID)
        return {"ok": True, "channel": self._channel_view(ch)}

    def m_conversations_setTopic(self, p):
        ch = self._need_channel(p)
        topic = str(p.get("topic", ""))
        if len(topic) > 250:
            raise _SlackError("too_long")
        ch["topic"] = topic
        return {"ok": True, "channel": self._channel_view(ch)}

    def m_conversations_open(self, p):
        users = [u for u in str(p.get("users", "")).split(",") if u]
        if not users or any(u not in self.users for u in users):
            raise _SlackError("user_not_found")
        name = "im-" + "-".join(sorted(users))
        existing = self.channel_by_name(name)
        if existing is None:
            cid = f"D0FAKE{next(self._ids):04d}"
            existing = self._channel(cid, name, True, [BOT_USER_ID, *users])
            self.channels[cid] = existing
        return {"ok": True, "channel": {"id": existing["id"]}}

    def m_conversations_history(self, p):
        ch = self._need_channel(p)
        msgs = sorted(ch["messages"], key=lambda m: float(m["ts"]), reverse=True)
        latest = p.get("latest")
        inclusive = str(p.get("inclusive", "false")).lower() in ("true", "1")
        if latest:
            lt = float(latest)
            msgs = [m for m in msgs if float(m["ts"]) < lt or (inclusive and m["ts"] == latest)]
        limit = int(p.get("limit", 100))
        return {"ok": True, "messages": msgs[:limit], "has_more": len(msgs) > limit}

    def m_chat_postMessage(self, p):
        ch = self._need_channel(p)
        if not (p.get("text") or p.get("blocks")):
            raise _SlackError("no_text")
        if BOT_USER_ID not in ch["members"] and ch["id"].startswith("G"):
            raise _SlackError("not_in_channel")
        ts = self._ts()
        msg = {"type": "message", "subtype": "bot_message", "bot_id": "B0FIREWATCH", "user": BOT_USER_ID,
               "text": p.get("text", ""), "blocks": p.get("blocks") or [], "ts": ts}
        if p.get("thread_ts"):
            msg["thread_ts"] = p["thread_ts"]
        ch["messages"].append(msg)
        return {"ok": True, "channel": ch["id"], "ts": ts, "message": msg}

    def m_chat_update(self, p):
        ch = self._need_channel(p)
        for m in ch["messages"]:
            if m["ts"] == p.get("ts"):
                if "text" in p:
                    m["text"] = p["text"]
                if "blocks" in p:
                    m["blocks"] = p["blocks"]
                m["edited"] = True
                return {"ok": True, "channel": ch["id"], "ts": m["ts"], "text": m["text"]}
        raise _SlackError("message_not_found")

    def m_chat_postEphemeral(self, p):
        self._need_channel(p)
        return {"ok": True, "message_ts": self._ts()}

    def m_chat_getPermalink(self, p):
        ch = self._need_channel(p)
        ts = str(p.get("message_ts", ""))
        return {"ok": True, "channel": ch["id"],
                "permalink": f"https://firewatch-demo.slack.com/archives/{ch['id']}/p{ts.replace('.', '')}"}

    def m_pins_add(self, p):
        ch = self._need_channel(p)
        ts = p.get("timestamp")
        if not any(m["ts"] == ts for m in ch["messages"]):
            raise _SlackError("message_not_found")
        if ts in ch["pins"]:
            raise _SlackError("already_pinned")
        ch["pins"].append(ts)
        return {"ok": True}

    def m_bookmarks_add(self, p):
        self._need_channel(p, "channel_id")
        return {"ok": True, "bookmark": {"id": f"Bk{next(self._ids):04d}", "title": p.get("title"), "link": p.get("link")}}

    def m_views_open(self, p):
        if not p.get("trigger_id"):
            raise _SlackError("invalid_trigger_id")
        view = p.get("view") or {}
        vid = f"V0FAKE{next(self._ids):04d}"
        self.views[vid] = view
        return {"ok": True, "view": {"id": vid, **view}}

    def m_views_update(self, p):
        vid = p.get("view_id")
        if vid not in self.views:
            raise _SlackError("not_found")
        self.views[vid] = p.get("view") or {}
        return {"ok": True, "view": {"id": vid, **self.views[vid]}}

    def m_views_publish(self, p):
        return {"ok": True, "view": {"id": f"V0HOME{next(self._ids):04d}", **(p.get("view") or {})}}

    def m_users_info(self, p):
        user = self.users.get(str(p.get("user")))
        if user is None:
            raise _SlackError("user_not_found")
        return {"ok": True, "user": user}

    def m_users_lookupByEmail(self, p):
        # Slack matches the profile e-mail case-insensitively and answers users_not_found otherwise.
        email = str(p.get("email") or "").lower()
        user = next((u for u in self.users.values() if u["profile"].get("email", "").lower() == email), None)
        if user is None or not email:
            raise _SlackError("users_not_found")
        return {"ok": True, "user": user}

    def m_usergroups_users_update(self, p):
        users = [u for u in str(p.get("users", "")).split(",") if u]
        if not users:
            raise _SlackError("invalid_users")
        self.usergroups[str(p.get("usergroup"))] = users
        return {"ok": True, "usergroup": {"id": p.get("usergroup"), "users": users}}

    def m_reactions_add(self, p):
        self._need_channel(p)
        return {"ok": True}


    # -- files: Slack's current upload (files.getUploadURLExternal, POST the bytes, files.completeUploadExternal) --
    def m_files_getUploadURLExternal(self, p):
        filename = str(p.get("filename") or "")
        try:
            length = int(p.get("length"))
        except (TypeError, ValueError):
            raise _SlackError("invalid_arguments") from None
        if not filename or length <= 0:
            raise _SlackError("invalid_arguments")
        file_id = f"F{next(self._ids):09d}"
        self.uploads[file_id] = {"id": file_id, "name": filename, "length": length, "alt_txt": p.get("alt_txt"),
                                 "data": None, "title": None, "channels": []}
        return {"ok": True, "upload_url": f"{self.upload_base}/upload/v1/{file_id}", "file_id": file_id}

    def receive_upload(self, file_id: str, data: bytes) -> bool:
        """The POST to an upload URL: accepted once, and only with as many bytes as were announced."""
        with self.lock:
            f = self.uploads.get(file_id)
            if f is None or f["data"] is not None or len(data) != f["length"]:
                return False
            f["data"] = data
            self.changed.notify_all()
            return True

    def m_files_completeUploadExternal(self, p):
        files = p.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except ValueError:
                raise _SlackError("invalid_arguments") from None
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("id") for f in files):
            raise _SlackError("invalid_arguments")
        if any(self.uploads.get(f["id"], {}).get("data") is None for f in files):
            raise _SlackError("file_not_found")  # never announced, or its bytes never arrived
        channel = self._need_channel(p, "channel_id") if p.get("channel_id") else None
        if channel is not None and BOT_USER_ID not in channel["members"]:
            raise _SlackError("not_in_channel")
        shown = []
        for f in files:
            up = self.uploads[f["id"]]
            up["title"] = f.get("title") or up["name"]
            if channel is not None:
                up["channels"].append(channel["id"])
            shown.append({"id": up["id"], "name": up["name"], "title": up["title"], "size": up["length"]})
        if channel is not None:
            channel["messages"].append({"type": "message", "user": BOT_USER_ID, "ts": self._ts(), "files": shown,
                                        "text": str(p.get("initial_comment") or "")})
        return {"ok": True, "files": shown}

class _SlackError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _coerce(params: dict[str, Any]) -> dict[str, Any]:
    """Form posts carry blocks/views as JSON strings; decode them so recorded params are structured."""
    out = dict(params)
    for key in ("blocks", "view", "attachments"):
        if isinstance(out.get(key), str):
            try:
                out[key] = json.loads(out[key])
            except ValueError:
                pass
    return out


def _flatten(form: dict[str, list[str]]) -> dict[str, Any]:
    """Form and query fields arrive as lists; a field sent once is a plain value."""
    return {k: (v[0] if len(v) == 1 else v) for k, v in form.items()}


class _Handler(BaseHTTPRequestHandler):
    server: "FakeSlackServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        fake = self.server.fake
        path = urlparse(self.path).path
        if path == "/_fake/calls":
            with fake.lock:
                self._send(200, {"calls": [c.__dict__ for c in fake.calls], "responses": fake.responses,
                                 "violations": [v.__dict__ for v in fake.violations]})
            return
        self._handle_api(path, _flatten(parse_qs(urlparse(self.path).query)))

    def do_POST(self):
        fake = self.server.fake
        path = urlparse(self.path).path
        raw = self._body()
        ctype = self.headers.get("Content-Type", "")
        if path.startswith("/response/"):
            with fake.lock:
                fake.responses.append({"path": path, **(json.loads(raw or b"{}"))})
                fake.changed.notify_all()
            self._send(200, {"ok": True})
            return
        if path.startswith("/upload/v1/"):
            ok = fake.receive_upload(path.rsplit("/", 1)[-1], raw)
            data = f"OK - {len(raw)}".encode() if ok else b"upload refused"
            self.send_response(200 if ok else 400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if path == "/_fake/fail":
            body = json.loads(raw or b"{}")
            fake.fail(body.pop("method"), **body)
            self._send(200, {"ok": True})
            return
        if path == "/_fake/chaos":
            body = json.loads(raw or b"{}")
            fake.chaos(float(body.pop("rate")), **body)
            self._send(200, {"ok": True})
            return
        if path == "/_fake/message":
            body = json.loads(raw or b"{}")
            self._send(200, {"ok": True, "ts": fake.post_user_message(body["channel"], body["user"], body["text"])})
            return
        if path == "/_fake/reset":
            fake.reset()
            self._send(200, {"ok": True})
            return
        if "json" in ctype:
            params = json.loads(raw or b"{}")
        else:
            params = _flatten(parse_qs(raw.decode()))
        self._handle_api(path, params)

    def _handle_api(self, path: str, params: dict[str, Any]) -> None:
        method = path.rsplit("/", 1)[-1]
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else params.pop("token", None)
        params.pop("token", None)
        status, body, headers = self.server.fake.handle(method, _coerce(params), token)
        self._send(status, body, headers)


class FakeSlackServer(ThreadingHTTPServer):
    """The fake Slack on a loopback port; `api_url` is what FIREWATCH_SLACK_API_URL should be."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0, fake: FakeSlack | None = None):
        super().__init__((host, port), _Handler)
        self.fake = fake or FakeSlack()
        self.fake.upload_base = self.base_url
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.base_url}/response/{name}"

    def start(self) -> "FakeSlackServer":
        self._thread = threading.Thread(target=self.serve_forever, name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def main() -> None:  # pragma: no cover - manual use: python -m bot.devtools.fake_slack
    import argparse

    parser = argparse.ArgumentParser(description="Run the fake Slack Web API on loopback.")
    parser.add_argument("--port", type=int, default=3999)
    args = parser.parse_args()
    server = FakeSlackServer(port=args.port)
    print(f"fake Slack listening: FIREWATCH_SLACK_API_URL={server.api_url}")
    server.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    main()
