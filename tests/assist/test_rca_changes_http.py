"""`/incident rca` with change-event evidence, `POST /webhooks/changes`, and the scripted offline model for the demo."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import httpx
from sqlmodel import select

from bot.assist.messages import ACCEPT_ACTION_ID
from bot.devtools.scripted_llm import SCRIPTED_MODEL, install_scripted_llm
from storage.models import ChangeEventRecord, Incident, LLMUsageRecord, PageRecord, SuggestionRecord
from tests.assist.conftest import (
    CONFIG,
    WEBHOOK_TOKEN,
    button_value,
    by_task,
    completion,
    dump,
    wait_post,
    wait_triage,
)
from tests.conftest import ALICE, BOB

CHANGE_URL = "https://ci.example.com/deploys/881"


def _post_change(h, body, token: str | None = WEBHOOK_TOKEN, raw: bytes | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if raw is not None:
        return httpx.post(h.running.url + "/webhooks/changes", content=raw, headers=headers)
    return httpx.post(h.running.url + "/webhooks/changes", json=body, headers=headers)


def _change(**overrides):
    body = {"service": "payments-api", "version": "2.4.1", "author": "dana",
            "description": "Switch card tokenizer to the new provider", "url": CHANGE_URL,
            "timestamp": (datetime.now(timezone.utc) - timedelta(minutes=25)).isoformat()}
    body.update(overrides)
    return body


def _change_id(payload: dict) -> str:
    return next(r["id"] for r in payload["evidence"] if r["kind"] == "change")


def test_changes_webhook_auth_validation_and_storage(harness_factory, webhook_token):
    h = harness_factory(CONFIG)
    assert _post_change(h, _change(), token=None).status_code == 401
    wrong = _post_change(h, _change(), token="nope")
    assert wrong.status_code == 401 and "bearer" in wrong.json()["error"]

    bad_json = _post_change(h, None, raw=b"{not json")
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["error"]
    assert _post_change(h, None, raw=b"[1, 2]").status_code == 400
    missing = _post_change(h, {"service": "payments-api"})
    assert missing.status_code == 400 and "timestamp" in missing.json()["error"]
    naive = _post_change(h, _change(timestamp="2024-05-01T12:00:00"))
    assert naive.status_code == 400 and "timestamp" in naive.json()["error"]
    bad_url = _post_change(h, _change(url="javascript:alert(1)"))
    assert bad_url.status_code == 400 and "url" in bad_url.json()["error"]
    assert _post_change(h, _change(service="")).status_code == 400

    ok = _post_change(h, _change(extra_field="ignored"))
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["ok"] is True and isinstance(body["id"], int)
    with h.ctx.session() as s:
        row = s.get(ChangeEventRecord, body["id"])
        assert (row.service, row.version, row.author, row.url) == ("payments-api", "2.4.1", "dana", CHANGE_URL)
        assert row.timestamp.tzinfo is not None
        assert len(s.exec(select(ChangeEventRecord)).all()) == 1


def test_changes_webhook_disabled_without_token(harness_factory):
    h = harness_factory(CONFIG)
    r = _post_change(h, _change(), token="anything")
    assert r.status_code == 401 and "disabled" in r.json()["error"]


def test_rca_cites_change_event_drops_uncited_and_shows_inconclusive(harness_factory, llm_route, webhook_token):
    def rca_reply(request: httpx.Request) -> httpx.Response:
        prompt = request.content.decode()
        change = re.search(r'id=\\"(E\d+)\\" kind=\\"change\\"', prompt).group(1)
        return completion({"inconclusive": False, "summary": "The tokenizer deploy lines up with the errors.",
                           "hypotheses": [
                               {"statement": "Deploy 2.4.1 of payments-api broke card tokenization",
                                "evidence_ids": [change, "E77"], "confidence": 0.75,
                                "confirm": "Errors start at the deploy time", "refute": "Errors predate the deploy",
                                "next_check": "Roll back 2.4.1 on one canary"},
                               {"statement": "A cosmic ray flipped a bit", "evidence_ids": ["E42"], "confidence": 0.9,
                                "confirm": "-", "refute": "-", "next_check": "-"},
                           ]})

    inconclusive = completion({"inconclusive": True, "summary": "Nothing in the evidence explains it yet.",
                               "hypotheses": []})
    rca_replies = [rca_reply, lambda _req: inconclusive]
    llm_route.mock(side_effect=by_task(
        triage=completion({"severity": "sev2", "affected_services": ["payments-api"], "suggested_owner": None,
                           "summary": "Payments errors.", "first_steps": [], "confidence": 0.5, "evidence_ids": []}),
        rca=lambda req: rca_replies.pop(0)(req),
    ))
    h = harness_factory(CONFIG)
    assert _post_change(h, _change()).status_code == 200
    channel = h.declare("sev2 payments-api card payments failing")
    wait_triage(h, channel)

    h.command("rca", channel=channel)
    post = wait_post(h, channel, "Root-cause hypotheses")[0]
    assert llm_route.called
    rca_calls = [c for c in llm_route.calls if b'"name":"rca"' in c.request.content.replace(b" ", b"")]
    assert len(rca_calls) == 1
    with h.ctx.session() as s:
        row = s.exec(select(SuggestionRecord).where(SuggestionRecord.kind == "rca")).one()
    change_id = _change_id(row.payload)
    text = dump(post)
    assert "AI suggestion" in text
    assert "Deploy 2.4.1 of payments-api broke card tokenization" in text
    assert f"`{change_id}`" in text and CHANGE_URL in text  # the cited change, linked
    assert "cosmic ray" not in text and "E42" not in text and "E77" not in text
    assert "1 hypothesis(es) citing only unknown evidence removed" in text
    assert "Confirm" in text and "Refute" in text and "Next check" in text
    assert [hyp["evidence_ids"] for hyp in row.payload["hypotheses"]] == [[change_id]]
    assert row.payload["dropped_hypotheses"] == 1

    h.command("rca", channel=channel)
    post2 = wait_post(h, channel, "Inconclusive")[0]
    assert "Nothing in the evidence explains it yet." in dump(post2)
    with h.ctx.session() as s:
        purposes = sorted(u.purpose for u in s.exec(select(LLMUsageRecord)))
    assert purposes == ["rca", "rca", "triage"]


def test_scripted_model_for_the_demo(harness_factory, webhook_token):
    """What the demo does: no network, scripted replies; a triage suggestion accepted and an RCA with the change
    event cited."""
    h = harness_factory(CONFIG)
    scripted = install_scripted_llm(h.ctx, severity="sev1", owner="payments")
    assert _post_change(h, _change()).status_code == 200
    channel = h.declare("sev3 payments-api checkout errors")
    post = wait_triage(h, channel)
    text = dump(post)
    assert "AI suggestion" in text and SCRIPTED_MODEL in text and "SEV1" in text
    assert CHANGE_URL in text

    h.sender.block_action(ACCEPT_ACTION_ID, button_value(post, ACCEPT_ACTION_ID), user=ALICE, channel=channel,
                          message_ts=post.response["ts"])
    h.fake.wait_for(lambda f: [c for c in f.calls_to("conversations.open") if c.params.get("users") == BOB])

    h.command("rca", channel=channel)
    rca_post = wait_post(h, channel, "Root-cause hypotheses")[0]
    with h.ctx.session() as s:
        assert s.exec(select(Incident)).one().severity == "sev1"
        assert s.exec(select(PageRecord)).one().source == "triage"
        row = s.exec(select(SuggestionRecord).where(SuggestionRecord.kind == "rca")).one()
    change_id = _change_id(row.payload)
    assert row.payload["hypotheses"][0]["evidence_ids"][0] == change_id
    assert f"`{change_id}`" in dump(rca_post) and CHANGE_URL in dump(rca_post)
    assert len(scripted.requests) == 2
