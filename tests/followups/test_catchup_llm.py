"""`/incident catchup` drafted by the configured LLM (respx stand-in for an OpenAI-compatible server): the
timeline goes out redacted, claims must cite timeline entries, uncited or wrongly cited claims are dropped, and
any failure falls back to the timeline-only catch-up."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import respx

from tests.assist.helpers import COMPLETIONS, completion, make_client
from tests.conftest import BASE_CONFIG, BOB
from tests.followups.test_followups_app import _posted, _run

SECRET_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.fixture
def llm():
    with respx.mock(assert_all_called=False) as mock:
        mock.route(host="127.0.0.1").pass_through()
        yield mock


def _incident(h, private: bool = False) -> str:
    channel = h.declare("sev2 Checkout API returning 500s")
    h.command(f"update Rolled back the deploy with <@{BOB}>, token {SECRET_TOKEN}", channel=channel)
    _posted(h.fake, "Rolled back")
    h.ctx.services.llm = make_client()
    return channel


def _entry_id(body: str, needle: str) -> str:
    return next(m.group(1) for m in re.finditer(r'<untrusted id="(T\d+)"[^>]*>\n([^<]*)', body) if needle in m.group(2))


def test_llm_catchup_is_redacted_cited_and_checked(harness_factory, llm):
    h = harness_factory(BASE_CONFIG)
    channel = _incident(h)
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)["messages"][1]["content"]
        sent.append(body)
        rollback = _entry_id(body, "Rolled back")
        bob = re.search(r"deploy with (responder-\d+)", body).group(1)  # Bob's placeholder, as the model saw it
        return completion({"summary": [
            {"text": f"The deploy was rolled back with {bob}.", "cites": [rollback]},
            {"text": "The database is on fire.", "cites": ["T99"]},
            {"text": "Everything is fine.", "cites": []}],
            "open_questions": [{"text": "Is the error rate back to normal?", "cites": [rollback]}]})

    llm.post(COMPLETIONS).mock(side_effect=answer)
    reply = _run(h, "catchup", channel, "Catch-up")
    text = json.dumps(reply["blocks"])
    assert "The deploy was rolled back with " + BOB in text and "Is the error rate back to normal?" in text
    assert "on fire" not in text and "Everything is fine" not in text and "2 uncited claim(s) left out" in text
    assert "(timeline <!date^" in text and "drafted by firewatch-test-model" in text
    assert SECRET_TOKEN not in sent[0] and BOB not in sent[0] and "responder-" in sent[0]


@pytest.mark.parametrize("failure", [httpx.Response(500, json={"error": {"message": "boom"}}),
                                     completion({"summary": [{"text": "Uncited.", "cites": ["T99"]}]}),
                                     completion("not json at all")])
def test_llm_failure_falls_back_to_the_timeline_only_catchup(harness_factory, llm, failure):
    h = harness_factory(BASE_CONFIG)
    channel = _incident(h)
    llm.post(COMPLETIONS).mock(return_value=failure)
    text = json.dumps(_run(h, "catchup", channel, "Catch-up")["blocks"])
    assert "from the timeline only" in text and "Rolled back the deploy" in text


def test_private_incident_timeline_is_never_sent_to_the_llm(harness_factory, llm):
    h = harness_factory({**BASE_CONFIG, "incidents": {**BASE_CONFIG["incidents"], "private_by_default": True}})
    channel = _incident(h)
    route = llm.post(COMPLETIONS).mock(return_value=completion({"summary": []}))
    text = json.dumps(_run(h, "catchup", channel, "Catch-up")["blocks"])
    assert "from the timeline only" in text and route.call_count == 0
