"""A scripted, offline OpenAI-compatible model for the demo (and tests): an `httpx.MockTransport` that answers
chat-completions requests from the prompt Firewatch sent, so triage and RCA run end to end without a network.

It reads the evidence blocks in the prompt (`<untrusted id="E3" kind="change" …>`) and answers with:
* triage: the configured severity asked for (default sev2), the owner asked for (default: the first configured
  rotation), the services named in `service=` labels, runbook and change links from the evidence, and the ids of
  the alerts and changes it used;
* RCA: one hypothesis per change event ("the change in E4 caused it"), citing the change and the first alert;
  "inconclusive" when the evidence has no change.

Use from the demo, after `build_context` (before or after `start_in_thread`):

    from bot.devtools.scripted_llm import install_scripted_llm
    scripted = install_scripted_llm(ctx, severity="sev1", owner="payments")
    ...
    scripted.requests  # the request bodies the "model" received (already redacted by Firewatch)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.context import AppContext
from bot.assist.llm_client import LLMClient
from bot.assist.domain import LLMConfig, resolve_settings

SCRIPTED_BASE_URL = "http://scripted-llm.invalid/v1"
SCRIPTED_MODEL = "firewatch-scripted-demo"

_BLOCK = re.compile(r'<untrusted id="(E\d+)"(?: kind="(\w+)")?[^>]*>\n(.*?)</untrusted>', re.DOTALL)
_URL_LINE = re.compile(r"^url: (\S+)", re.MULTILINE)
_SERVICE = re.compile(r"\bservice=([\w.\-]+)")
_RUNBOOK = re.compile(r"\brunbook_url=(https?://\S+)")


@dataclass
class Evidence:
    id: str
    kind: str
    body: str
    url: str | None


def _section_names(prompt: str, heading: str) -> list[str]:
    """Names listed as `- name…` lines right after a heading line starting with `heading`."""
    lines = prompt.splitlines()
    out: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith(heading):
            for nxt in lines[i + 1:]:
                if not nxt.startswith("- "):
                    break
                # Several items can share a line ("- a- b") when the template drops a newline.
                out += re.findall(r"(?:^|(?<=\S))- ([a-z0-9](?:[a-z0-9_]|-(?! ))*)", nxt)
            break
    return out


def parse_prompt(prompt: str) -> tuple[list[Evidence], list[str], list[str]]:
    """(evidence, severities, rotations) from a triage or RCA prompt."""
    evidence = []
    for eid, kind, body in _BLOCK.findall(prompt):
        url = _URL_LINE.search(body)
        evidence.append(Evidence(eid, kind or "", body, url.group(1) if url else None))
    return evidence, _section_names(prompt, "Configured severities"), _section_names(prompt, "Configured on-call")


def _first_line(body: str) -> str:
    lines = [l for l in body.splitlines() if l.strip() and not l.startswith("url: ")]
    meaningful = [l for l in lines if "=" not in l.split(" ")[0]]
    return ((meaningful or lines or [""])[0])[:160]


@dataclass
class ScriptedModel:
    """Answers triage and RCA requests; records every request body it got."""

    severity: str | None = "sev2"
    owner: str | None = None
    confidence: float = 0.72
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        self.requests.append(body)
        messages = body.get("messages") or []
        prompt = "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "user")
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
        is_triage = schema == "triage" or (schema is None and "Suggest a triage" in prompt)
        props = (((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}).get("properties") or {}
        if schema == "postmortem":
            reply = self.postmortem(list(props))
        else:
            reply = self.triage(prompt, props) if is_triage else self.rca(prompt)
        return httpx.Response(200, json={
            "id": f"chatcmpl-scripted-{len(self.requests)}", "object": "chat.completion", "created": 1714564800,
            "model": body.get("model") or SCRIPTED_MODEL,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": json.dumps(reply)}}],
            "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": 120,
                      "total_tokens": len(prompt) // 4 + 120},
        })

    def triage(self, prompt: str, schema_properties: dict[str, Any] | None = None) -> dict[str, Any]:
        evidence, severities, rotations = parse_prompt(prompt)
        # The strict schema lists the configured names exactly; prefer it to the prompt text.
        props = schema_properties or {}
        severities = [s for s in (props.get("severity") or {}).get("enum") or []] or severities
        rotations = [r for r in (props.get("suggested_owner") or {}).get("enum") or [] if r] or rotations
        severity = self.severity if self.severity in severities else (severities[0] if severities else "sev3")
        owner = self.owner if self.owner in rotations else (rotations[0] if rotations else None)
        alerts = [e for e in evidence if e.kind == "alert"]
        changes = [e for e in evidence if e.kind == "change"]
        services: list[str] = []
        for e in alerts + changes:
            for s in _SERVICE.findall(e.body):
                if s not in services:
                    services.append(s)
        steps = []
        for e in alerts:
            m = _RUNBOOK.search(e.body)
            if m:
                steps.append({"text": f"Follow the runbook linked from the alert in {e.id}", "url": m.group(1)})
        for e in changes[:2]:
            steps.append({"text": f"Check the change in {e.id} and roll it back if the timing matches",
                          "url": e.url})
        if not steps:
            steps.append({"text": "Confirm customer impact and post a status update", "url": None})
        cited = [e.id for e in alerts + changes] or [e.id for e in evidence[:1]]
        what = f"{len(alerts)} alert(s) and {len(changes)} recent change(s)"
        lead = f" The most recent change is {_first_line(changes[0].body)}." if changes else ""
        return {
            "severity": severity, "affected_services": services[:5], "suggested_owner": owner,
            "summary": f"Scripted triage based on {what}.{lead}", "first_steps": steps[:5],
            "confidence": self.confidence, "evidence_ids": cited,
        }

    def postmortem(self, sections: list[str]) -> dict[str, Any]:
        """A blameless narrative for the sections asked for (the facts stay the database's)."""
        return {key: POSTMORTEM_NARRATIVE.get(key, "") for key in (sections or POSTMORTEM_NARRATIVE)}

    def rca(self, prompt: str) -> dict[str, Any]:
        evidence, _, _ = parse_prompt(prompt)
        alerts = [e for e in evidence if e.kind == "alert"]
        changes = [e for e in evidence if e.kind == "change"]
        if not changes:
            return {"inconclusive": True, "summary": "No change event or other evidence points at a cause yet.",
                    "hypotheses": []}
        hyps = []
        for i, e in enumerate(changes[:3]):
            ids = [e.id] + ([alerts[0].id] if alerts else [])
            hyps.append({
                "statement": f"The change in {e.id} ({_first_line(e.body)}) triggered the incident",
                "evidence_ids": ids, "confidence": round(max(0.2, 0.7 - 0.2 * i), 2),
                "confirm": "Errors began within minutes of the deploy and stop after a rollback.",
                "refute": "Errors started before the deploy, or continue after the rollback.",
                "next_check": f"Compare the error rate before and after the change in {e.id}.",
            })
        return {"inconclusive": False, "summary": f"{len(hyps)} recent change(s) line up with the incident.",
                "hypotheses": hyps}


POSTMORTEM_NARRATIVE = {
    "summary": "Checkout requests failed with server errors after a configuration change; rolling the change back "
               "restored service. The timeline below lists what responders saw and did.",
    "impact": "Customers saw failed checkout requests while the incident was open; the durations are in the "
              "front matter.",
    "detection": "A responder noticed the errors and declared the incident in Slack.",
    "response": "Responders took roles, posted updates, rolled the change back and watched the error rate recover.",
    "contributing_factors": "The configuration change reached production with no automated check covering that "
                            "setting.",
    "what_went_well": "The rollback was quick, and the pinned timeline kept everyone working from the same facts.",
    "what_went_poorly": "The errors began before any alert fired, so detection depended on a person noticing.",
    "where_we_got_lucky": "The change was small and easy to roll back.",
}


def scripted_client(model: ScriptedModel | None = None) -> tuple[LLMClient, ScriptedModel]:
    """An LLMClient whose HTTP goes to the scripted model (no network)."""
    model = model or ScriptedModel()
    settings = resolve_settings(LLMConfig(base_url=SCRIPTED_BASE_URL, model=SCRIPTED_MODEL, max_retries=0,
                                          retry_delay_seconds=0, timeout_seconds=10), env={})
    assert settings is not None
    return LLMClient(settings, http_client=httpx.Client(transport=httpx.MockTransport(model))), model


def install_scripted_llm(ctx: AppContext, *, severity: str | None = "sev2", owner: str | None = None,
                         confidence: float = 0.72) -> ScriptedModel:
    """Make `ctx` use the scripted model for triage and RCA (replaces `ctx.services.llm`)."""
    from bot.assist.service import configure_llm

    client, model = scripted_client(ScriptedModel(severity=severity, owner=owner, confidence=confidence))
    configure_llm(ctx, client=client)
    return model
