"""Model-drafted postmortem narrative in the running app: `/incident postmortem` asks the (fake, respx-served, base URL
under .invalid) model for the narrative with redacted facts, stores it, marks it as draft text, records token usage;
publishing reuses it without calling the model; failures and a missing LLM leave prompts for the authors."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from sqlmodel import select

from bot.postmortems.domain.render import DRAFT_MARKER
from storage.models import Incident, LLMUsageRecord, PostmortemRecord
from tests.conftest import ALICE
from tests.postmortems.test_postmortems_app import bare_repo, config_with, git, posted  # noqa: F401 - fixture

BASE_URL = "http://llm.invalid/v1"
COMPLETIONS = f"{BASE_URL}/chat/completions"
MODEL = "firewatch-postmortem-test-model"
AWS = "AKIAIOSFODNN7EXAMPLE"
SLACK_TOKEN = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
EMAIL = "oncall.lead@example.com"
SECRETS = (AWS, SLACK_TOKEN, EMAIL)
LLM = {"max_retries": 0, "retry_delay_seconds": 0, "timeout_seconds": 5}
DRAFTED = "Narrative drafted by the model — review before publishing"


def completion(content: str | dict) -> httpx.Response:
    if isinstance(content, dict):
        content = json.dumps(content)
    return httpx.Response(200, json={
        "id": "chatcmpl-pm", "object": "chat.completion", "created": 1714564800, "model": MODEL,
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 250, "total_tokens": 1150},
    })


def narrative(summary: str = "Checkout returned errors until the deploy was rolled back.", **more: str) -> dict:
    reply = {"summary": summary, "impact": "Customers could not check out while the errors lasted.",
             "detection": "", "response": "responder-1 took command and the deploy was rolled back.",
             "contributing_factors": "A configuration change shipped without a canary stage.",
             "what_went_well": "The rollback was quick.", "what_went_poorly": "", "where_we_got_lucky": ""}
    reply.update(more)
    return reply


class FakeModel:
    """Answers postmortem requests from `replies` (the last one repeats); triage requests get 401 (one call,
    heuristic triage), so only the postmortem calls are counted."""

    def __init__(self, route, *replies: httpx.Response):
        self.replies = list(replies)
        route.mock(side_effect=self)
        self.route = route

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        name = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
        if name != "postmortem":
            return httpx.Response(401, json={"error": {"message": "not this test"}})
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def postmortem_requests(self) -> list[str]:
        out = []
        for call in self.route.calls:
            body = json.loads(call.request.content)
            if ((body.get("response_format") or {}).get("json_schema") or {}).get("name") == "postmortem":
                out.append(call.request.content.decode("utf-8"))
        return out


@pytest.fixture
def llm_route(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("FIREWATCH_LLM_MODEL", MODEL)
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()  # the fake Slack and Firewatch itself
        yield router.post(COMPLETIONS, name="chat-completions")


def record_row(h) -> PostmortemRecord | None:
    with h.ctx.session() as s:
        return s.exec(select(PostmortemRecord)).first()


def incident_row(h) -> Incident:
    with h.ctx.session() as s:
        return s.exec(select(Incident)).one()


def usage_rows(h) -> list[LLMUsageRecord]:
    with h.ctx.session() as s:
        return list(s.exec(select(LLMUsageRecord).where(LLMUsageRecord.purpose == "postmortem")))


def run_incident(h) -> str:
    """Secrets planted in the title and in a timeline message; a commander; resolved."""
    channel = h.declare(f"sev2 Checkout 500s key {AWS} mail {EMAIL}")
    h.command(f"role commander <@{ALICE}|alice>", channel=channel)
    h.fake.wait_for(lambda f: posted(f, channel, "is now *commander*"))
    h.command(f"update Rolled back; token {SLACK_TOKEN} and key {AWS} were pasted, ask {EMAIL}", channel=channel)
    h.fake.wait_for(lambda f: posted(f, channel, "Rolled back; token"))
    h.command("resolve Bad config in the deploy, rolled back", channel=channel)
    h.fake.wait_for(lambda f: posted(f, channel, "resolved*"))
    h.fake.wait_for(lambda f: all_entries_linked(h))  # every command has finished (its message is linked)
    return channel


def all_entries_linked(h) -> bool:
    from storage.models import TimelineEvent

    with h.ctx.session() as s:
        events = s.exec(select(TimelineEvent)).all()
        return bool(events) and any(e.kind == "resolved" for e in events) and all(e.permalink for e in events)


def assert_redacted(model: FakeModel) -> None:
    sent = model.postmortem_requests()
    assert sent, "the model was never asked for the narrative"
    for text in sent:
        for secret in SECRETS:
            assert secret not in text, f"{secret} reached the model"
        assert "[REDACTED:aws_key]" in text and "[REDACTED:slack_token]" in text and "[EMAIL-1]" in text
    assert "Alice" not in sent[0] and ALICE not in sent[0]  # people are placeholders


def test_draft_with_model_is_stored_marked_and_reused_when_publishing(
        harness_factory, bare_repo, llm_route):  # noqa: F811
    model = FakeModel(llm_route, completion(narrative()),
                      completion(narrative("Checkout errors stopped after the rollback (second draft).")))
    h = harness_factory({**config_with(bare_repo), "llm": LLM})
    channel = run_incident(h)

    h.command("postmortem", channel=channel, user=ALICE)
    note = h.fake.wait_for(lambda f: posted(f, channel, DRAFTED))
    assert "Blameless postmortem for *INC-1* drafted" in note.params["text"] and "of 8 sections" in note.params["text"]
    h.wait_response("linter")
    assert llm_route.called and len(model.postmortem_requests()) == 1
    assert_redacted(model)

    record = record_row(h)
    assert record.narrative["sections"]["summary"] == "Checkout returned errors until the deploy was rolled back."
    assert record.narrative["sections"]["response"].startswith("Alice took command")  # mapped back, no mention
    assert record.narrative["source"] == "llm" and record.narrative["model"] == MODEL
    assert DRAFT_MARKER in record.markdown and "Checkout returned errors until the deploy" in record.markdown
    assert "Alice took command and the deploy was rolled back." in record.markdown
    assert "<@" not in record.markdown.split("## Summary", 1)[1]
    assert record.findings == []
    usage = usage_rows(h)
    assert [(u.incident_id, u.model, u.prompt_tokens, u.total_tokens) for u in usage] == [
        (incident_row(h).id, MODEL, 900, 1150)]

    # Publishing refreshes the facts but reuses the stored narrative: no model call, the same prose.
    h.command("postmortem publish", channel=channel, user=ALICE)
    h.fake.wait_for(lambda f: posted(f, channel, "Postmortem for *INC-1* published"))
    assert len(model.postmortem_requests()) == 1
    published = record_row(h)
    shown = git("--git-dir", str(bare_repo), "show", f"postmortem/inc-1:{published.path}")
    assert shown == published.markdown == record.markdown
    assert DRAFT_MARKER in shown and "Checkout returned errors until the deploy was rolled back." in shown

    h.command("postmortem publish", channel=channel, user=ALICE)
    h.fake.wait_for(lambda f: posted(f, channel, "no changes since the last publish"))
    assert len(model.postmortem_requests()) == 1 and len(usage_rows(h)) == 1

    # Drafting again regenerates the narrative.
    h.command("postmortem", channel=channel, user=ALICE)
    h.fake.wait_for(lambda f: posted(f, channel, "Blameless postmortem for *INC-1* updated"))
    assert len(model.postmortem_requests()) == 2
    assert_redacted(model)
    redrafted = record_row(h)
    assert "(second draft)" in redrafted.narrative["sections"]["summary"] and "(second draft)" in redrafted.markdown
    assert len(usage_rows(h)) == 2


def test_blameful_reply_is_repaired_before_it_reaches_the_draft(harness_factory, llm_route):
    model = FakeModel(llm_route,
                      completion(narrative(response="Bob should have checked the deploy before shipping it.")),
                      completion(narrative()))
    h = harness_factory({**config_with(None), "llm": LLM})
    channel = run_incident(h)
    h.command("postmortem", channel=channel, user=ALICE)
    h.fake.wait_for(lambda f: posted(f, channel, DRAFTED))
    assert len(model.postmortem_requests()) == 2  # the reply and one repair asking for blameless wording
    assert_redacted(model)
    assert "not blameless" in json.loads(model.postmortem_requests()[1])["messages"][-1]["content"]
    record = record_row(h)
    assert "should have" not in record.markdown and "Alice took command" in record.markdown
    assert record.findings == []
    assert usage_rows(h)[0].total_tokens == 2300  # both calls counted


def test_garbage_reply_gives_a_facts_only_draft_and_the_incident_is_intact(harness_factory, llm_route):
    model = FakeModel(llm_route, completion("Sure! Here is a haiku about outages instead of JSON."))
    h = harness_factory({**config_with(None), "llm": LLM})
    channel = run_incident(h)
    h.command("postmortem", channel=channel, user=ALICE)
    note = h.fake.wait_for(lambda f: posted(f, channel, "Blameless postmortem for *INC-1* drafted"))
    assert "prompts for the authors (the model did not draft them: LLM unavailable: invalid_json" in note.params["text"]
    assert DRAFTED not in note.params["text"]
    assert len(model.postmortem_requests()) == 2
    assert_redacted(model)

    record = record_row(h)
    assert DRAFT_MARKER not in record.markdown and "Summarise what happened" in record.markdown
    assert "Incident resolved: Bad config in the deploy, rolled back" in record.markdown  # facts are all there
    assert record.narrative["sections"] == {} and "invalid_json" in record.narrative["note"]
    inc = incident_row(h)
    assert (inc.status, inc.channel_id, inc.severity) == ("resolved", channel, "sev2")
    assert len(usage_rows(h)) == 1


def test_publish_without_a_draft_does_not_call_the_model(harness_factory, bare_repo, llm_route):  # noqa: F811
    model = FakeModel(llm_route, completion(narrative()))
    h = harness_factory({**config_with(bare_repo), "llm": LLM})
    channel = run_incident(h)
    h.command("postmortem publish", channel=channel, user=ALICE)
    h.fake.wait_for(lambda f: posted(f, channel, "Postmortem for *INC-1* published"))
    assert model.postmortem_requests() == [] and usage_rows(h) == []
    assert llm_route.called  # the model was asked for the triage suggestion only
    assert DRAFT_MARKER not in record_row(h).markdown

    # …and an explicit draft then does.
    h.command("postmortem", channel=channel, user=ALICE)
    h.fake.wait_for(lambda f: posted(f, channel, DRAFTED))
    assert len(model.postmortem_requests()) == 1
    assert_redacted(model)


def test_without_an_llm_the_narrative_sections_are_prompts(harness_factory):
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()
        anything_else = router.route(name="anything-else")
        h = harness_factory(config_with(None))
        assert h.ctx.services.llm is None
        channel = run_incident(h)
        h.command("postmortem", channel=channel, user=ALICE)
        note = h.fake.wait_for(lambda f: posted(f, channel, "Blameless postmortem for *INC-1* drafted"))
        assert "The narrative sections hold prompts for the authors." in note.params["text"]
        assert not anything_else.called
    record = record_row(h)
    assert record.narrative is None and DRAFT_MARKER not in record.markdown
    assert "Summarise what happened" in record.markdown and usage_rows(h) == []


def test_cli_render_shows_the_narrative_the_model_drafted(harness_factory, bare_repo, llm_route,  # noqa: F811
                                                          database_url, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from bot.cli import main

    model = FakeModel(llm_route, completion(narrative()))
    config = {**config_with(bare_repo), "llm": LLM}
    h = harness_factory(config)
    channel = run_incident(h)
    h.command("postmortem", channel=channel, user=ALICE)
    h.fake.wait_for(lambda f: posted(f, channel, DRAFTED))
    calls = len(model.postmortem_requests())

    import yaml

    path = tmp_path / "firewatch.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["postmortem", "render", "1", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert DRAFT_MARKER in result.output
    assert "Checkout returned errors until the deploy was rolled back." in result.output
    assert len(model.postmortem_requests()) == calls  # rendering never calls the model
