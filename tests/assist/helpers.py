"""Shared test data and fake OpenAI-compatible replies (served through respx; base URL under .invalid)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx

from bot.assist.domain import EvidenceItem, Incident, LLMConfig, RotationOption, SeverityOption, resolve_settings
from bot.assist.llm_client import LLMClient

BASE_URL = "http://llm.invalid/v1"
COMPLETIONS = f"{BASE_URL}/chat/completions"
MODEL = "firewatch-test-model"

SEVERITIES = [
    SeverityOption("sev1", "Critical: customer-facing outage or data loss"),
    SeverityOption("sev2", "Major: significant degradation"),
    SeverityOption("sev3", "Minor: limited impact"),
    SeverityOption("sev4", "Low: no customer impact"),
]
ROTATIONS = [
    RotationOption("payments", ("payments-api", "checkout")),
    RotationOption("platform", ("k8s", "postgres")),
]
START = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
INCIDENT = Incident(
    title="Checkout failing with 500s",
    description="Customers report payment errors since noon.",
    severity="sev3",
    status="investigating",
    started_at=START,
)
RUNBOOK = "https://wiki.example.com/runbooks/checkout-5xx"
CHANGE_URL = "https://ci.example.com/deploys/881"
EVIDENCE = [
    EvidenceItem("E1", "alert", "HighErrorRate on payments-api: 12% 5xx", url=RUNBOOK,
                 labels={"severity": "critical", "team": "payments", "service": "payments-api"}),
    EvidenceItem("E2", "change", "Change to payments-api version 2.4.1: switch card tokenizer", url=CHANGE_URL,
                 time=START.replace(hour=11, minute=40), labels={"service": "payments-api"}),
    EvidenceItem("E3", "timeline", "11:58 first customer report in #support"),
]


def make_client(**overrides: Any) -> LLMClient:
    """Client against the .invalid base URL, no SDK retries and no pause, with an explicit httpx.Client."""
    cfg = {"base_url": BASE_URL, "model": MODEL, "max_retries": 0, "retry_delay_seconds": 0, "timeout_seconds": 5}
    cfg.update(overrides)
    settings = resolve_settings(LLMConfig(**cfg), env={})
    assert settings is not None
    return LLMClient(settings, http_client=httpx.Client())


def completion(
    content: str | dict | None,
    *,
    finish_reason: str = "stop",
    usage: dict | None | bool = True,
    refusal: str | None = None,
) -> httpx.Response:
    """A chat.completion response body as an OpenAI-compatible server would send it."""
    if isinstance(content, dict):
        content = json.dumps(content)
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1714564800,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage is True:
        body["usage"] = {"prompt_tokens": 321, "completion_tokens": 54, "total_tokens": 375}
    elif isinstance(usage, dict):
        body["usage"] = usage
    return httpx.Response(200, json=body)


def good_triage(**overrides: Any) -> dict[str, Any]:
    reply = {
        "severity": "sev2",
        "affected_services": ["payments-api"],
        "suggested_owner": "payments",
        "summary": "Checkout requests fail with 5xx since the 2.4.1 deploy of payments-api.",
        "first_steps": [
            {"text": "Follow the checkout 5xx runbook", "url": RUNBOOK},
            {"text": "Consider rolling back deploy 881", "url": CHANGE_URL},
        ],
        "confidence": 0.7,
        "evidence_ids": ["E1", "E2"],
    }
    reply.update(overrides)
    return reply


def request_bodies(route: Any) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in route.calls]


def all_request_text(route: Any) -> str:
    return "\n".join(call.request.content.decode("utf-8") for call in route.calls)
