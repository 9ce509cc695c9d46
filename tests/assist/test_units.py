"""Small pieces without the server: client construction and injection, labels, links, the scripted model."""

from __future__ import annotations

import json
from types import SimpleNamespace

from bot.context import Services

import httpx

from bot.assist import messages
from bot.devtools.scripted_llm import ScriptedModel, _section_names, scripted_client
from bot.assist.service import build_llm, configure_llm
from bot.config import parse_config
from bot.assist.domain import EvidenceItem, Incident, RotationOption, SeverityOption, rca, triage


def _ctx(llm: dict | None = None):
    return SimpleNamespace(config=parse_config({"llm": llm or {}}), services=Services())


def test_no_llm_configured_gives_none():
    assert build_llm(_ctx(), env={}) is None
    assert build_llm(_ctx(), env={"OPENAI_BASE_URL": "http://llm.invalid/v1"}) is None  # no model
    assert build_llm(_ctx({"enabled": False}), env={"OPENAI_BASE_URL": "http://x.invalid/v1",
                                                    "FIREWATCH_LLM_MODEL": "m"}) is None


def test_env_builds_client_with_injected_http_client():
    injected = httpx.Client()
    ctx = _ctx({"model": "from-config"})
    ctx.services.llm_http_client = injected
    env = {"OPENAI_BASE_URL": "http://llm.invalid/v1", "FIREWATCH_LLM_MODEL": "from-env", "OPENAI_API_KEY": "sk-x"}
    client = configure_llm(ctx, env=env)
    assert ctx.services.llm is client
    assert client.model == "from-env" and client.http_client is injected
    assert client.settings.base_url == "http://llm.invalid/v1" and client.settings.api_key == "sk-x"
    other = httpx.Client()
    assert configure_llm(ctx, http_client=other, env=env).http_client is other


def test_source_labels():
    assert messages.source_label("llm", "") == "AI suggestion"
    assert messages.source_label("heuristic", "LLM not configured; heuristic used") == \
        "Heuristic suggestion (no LLM configured)"
    assert messages.source_label("heuristic", "LLM unavailable: timeout; heuristic used") == \
        "Heuristic suggestion (LLM unavailable: timeout)"


def test_links_only_for_plain_http_urls():
    assert messages.link("https://wiki.example.com/rb?a=1&b=2", "rb") == "<https://wiki.example.com/rb?a=1&amp;b=2|rb>"
    assert messages.link("javascript:alert(1)", "rb") == "rb"
    assert messages.link("https://x.example.com/a|<!channel>", "rb") == "rb"
    assert messages.link(None, "rb") == "rb"
    assert messages.channel("C0123ABC") == "<#C0123ABC>" and messages.channel("<!channel>") is None
    assert messages.user("U0ALICE") == "<@U0ALICE>" and messages.user("<!here>") == "someone"


def test_section_names_tolerate_joined_lines():
    prompt = "Configured on-call rotations (pick one):\n- payments- platform-core\n\nIncident"
    assert _section_names(prompt, "Configured on-call") == ["payments", "platform-core"]


def test_scripted_model_through_the_domain():
    client, model = scripted_client(ScriptedModel(severity="sev1", owner="payments"))
    evidence = [
        EvidenceItem("E1", "alert", "CheckoutErrors firing", url="https://wiki.example.com/rb",
                     labels={"service": "checkout", "runbook_url": "https://wiki.example.com/rb"}),
        EvidenceItem("E2", "change", "Change to checkout version 7", url="https://ci.example.com/d/7",
                     labels={"service": "checkout"}),
    ]
    inc = Incident(title="Checkout down", severity="sev3", status="investigating")
    sevs = [SeverityOption("sev1"), SeverityOption("sev2"), SeverityOption("sev3")]
    t = triage(inc, evidence, sevs, [RotationOption("payments")], client)
    assert (t.source, t.severity, t.suggested_owner, t.evidence_ids) == ("llm", "sev1", "payments", ["E1", "E2"])
    assert [s.url for s in t.first_steps] == ["https://wiki.example.com/rb", "https://ci.example.com/d/7"]
    r = rca(inc, evidence, client)
    assert r.source == "llm" and not r.inconclusive and r.hypotheses[0].evidence_ids == ["E2", "E1"]
    r2 = rca(inc, evidence[:1], client)
    assert r2.inconclusive and r2.hypotheses == []
    assert json.loads(json.dumps(model.requests[0]))["model"] == "firewatch-scripted-demo"


def test_llm_calls_and_tokens_are_counted_in_metrics():
    import respx

    from bot.core.metrics import REGISTRY
    from tests.assist.conftest import COMPLETIONS, completion

    def value(name: str, **labels) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    ctx = _ctx()
    env = {"OPENAI_BASE_URL": "http://llm.invalid/v1", "FIREWATCH_LLM_MODEL": "m", "OPENAI_API_KEY": "sk-x"}
    client = configure_llm(ctx, http_client=httpx.Client(), env=env)
    before = (value("firewatch_llm_calls_total", outcome="ok"), value("firewatch_llm_calls_total", outcome="failed"),
              value("firewatch_llm_tokens_total", kind="prompt"))
    with respx.mock(assert_all_called=True) as router:
        route = router.post(COMPLETIONS)
        route.side_effect = [completion({"ok": True}), httpx.Response(400, json={"error": {"message": "bad"}})]
        client.complete([{"role": "user", "content": "hi"}], schema={"type": "object"}, schema_name="t")
        try:
            client.complete([{"role": "user", "content": "hi"}], schema={"type": "object"}, schema_name="t")
        except Exception as exc:  # noqa: BLE001 - the failure itself is what is counted
            assert "400" in str(exc) or getattr(exc, "reason", "")
    assert route.call_count == 2
    assert value("firewatch_llm_calls_total", outcome="ok") == before[0] + 1
    assert value("firewatch_llm_calls_total", outcome="failed") == before[1] + 1
    assert value("firewatch_llm_tokens_total", kind="prompt") > before[2]
