"""Fixtures for the LLM-assistance tests: a fake OpenAI-compatible server (respx, base URL under `.invalid`, loopback
traffic to the fake Slack and Firewatch passed through), a config with a rotation, and Slack-side helpers."""

from __future__ import annotations

import json
import threading
from typing import Any, Callable

import httpx
import pytest
import respx

from tests.conftest import ALICE, ANNOUNCE, BOB

BASE_URL = "http://llm.invalid/v1"
COMPLETIONS = f"{BASE_URL}/chat/completions"
MODEL = "firewatch-assist-test-model"
WEBHOOK_TOKEN = "test-webhook-token-5d1c"

CONFIG: dict[str, Any] = {
    "admins": [ALICE],
    "incidents": {"announcements_channel": ANNOUNCE, "channel_prefix": "inc"},
    "rotations": [{"name": "payments", "members": [{"user": BOB}], "rules": {"min_rest_shifts": 0}}],
    # No SDK retries and no pause: a failing fake model costs exactly the domain's two calls.
    "llm": {"max_retries": 0, "retry_delay_seconds": 0, "timeout_seconds": 5},
}


def completion(content: str | dict | None, *, usage: dict | None | bool = True) -> httpx.Response:
    if isinstance(content, dict):
        content = json.dumps(content)
    body: dict[str, Any] = {
        "id": "chatcmpl-assist", "object": "chat.completion", "created": 1714564800, "model": MODEL,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
    }
    if usage is True:
        body["usage"] = {"prompt_tokens": 400, "completion_tokens": 60, "total_tokens": 460}
    elif isinstance(usage, dict):
        body["usage"] = usage
    return httpx.Response(200, json=body)


def task_of(request: httpx.Request) -> str:
    body = json.loads(request.content)
    return ((body.get("response_format") or {}).get("json_schema") or {}).get("name") or "unknown"


def by_task(**replies: Callable[[httpx.Request], httpx.Response] | list[httpx.Response] | httpx.Response):
    """respx side effect answering triage and RCA requests differently (a list is consumed in order)."""

    def effect(request: httpx.Request) -> httpx.Response:
        reply = replies[task_of(request)]
        if isinstance(reply, list):
            return reply.pop(0) if len(reply) > 1 else reply[0]
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    return effect


def request_texts(route) -> str:
    return "\n".join(call.request.content.decode("utf-8") for call in route.calls)


@pytest.fixture
def llm_env(monkeypatch):
    # conftest's autouse fixture cleared OPENAI_* and FIREWATCH_LLM*; set them here, before the harness starts.
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("FIREWATCH_LLM_MODEL", MODEL)


@pytest.fixture
def llm_route(llm_env):
    """The fake model's chat-completions route. Only `llm.invalid` is mocked; loopback passes through."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()
        yield router.post(COMPLETIONS, name="chat-completions")


@pytest.fixture
def webhook_token(monkeypatch):
    monkeypatch.setenv("FIREWATCH_WEBHOOK_TOKEN", WEBHOOK_TOKEN)
    return WEBHOOK_TOKEN


# -- Slack side --------------------------------------------------------------------------------------------------

def blocks_of(call) -> list[dict]:
    blocks = call.params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def dump(call) -> str:
    return (call.params.get("text") or "") + "\n" + json.dumps(blocks_of(call), ensure_ascii=False)


def wait_post(h, channel: str, marker: str, *, count: int = 1, timeout: float = 15.0) -> list:
    """The bot's chat.postMessage calls in `channel` whose blocks/text contain `marker` (waits for `count`)."""

    def found(f):
        calls = [c for c in f.calls_to("chat.postMessage") if c.params.get("channel") == channel and marker in dump(c)]
        return calls if len(calls) >= count else None

    return h.fake.wait_for(found, timeout)


def wait_triage(h, channel: str, count: int = 1):
    calls = wait_post(h, channel, "triage for", count=count)
    join_assist_threads(h)
    return calls[count - 1]


def join_assist_threads(h, timeout: float = 15.0) -> None:
    """Wait until no triage thread is running (other than the calling one)."""
    me = threading.current_thread().name

    def idle(_fake) -> bool:
        return not [n for n in h.ctx.background.running() if n.startswith("assist-") and n != me]

    h.fake.wait_for(idle, timeout)


def button_value(call, action_id: str) -> str:
    for block in blocks_of(call):
        if block.get("type") == "actions":
            for el in block.get("elements", []):
                if el.get("action_id") == action_id:
                    return el["value"]
    raise AssertionError(f"no {action_id} button in {blocks_of(call)}")


def declare_with_description(h, title: str, description: str, severity: str = "sev3", user: str | None = None) -> str:
    """Declare through the modal (the only way to give a description); returns the incident channel."""
    from tests.conftest import REPORTER

    before = len(h.fake.calls_to("conversations.create"))
    values = {"title": {"value": {"type": "plain_text_input", "value": title}},
              "severity": {"value": {"type": "static_select", "selected_option": {"value": severity}}},
              "description": {"value": {"type": "plain_text_input", "value": description}}}
    r = h.sender.view_submission("incident_declare", values, user=user or REPORTER)
    assert r.status_code == 200, r.text
    h.fake.wait_for(lambda f: len(f.calls_to("conversations.create")) > before)
    return h.fake.calls_to("conversations.create")[before].response["channel"]["id"]
