"""The one wrapper over the `openai` SDK used by triage and RCA.

Design decisions:
* Plain `chat.completions.create` with `response_format` json_schema (or json_object for servers without
  constrained decoding), never the SDK's `.parse` helpers: any OpenAI-compatible server (vLLM, llama.cpp, Ollama,
  LiteLLM…) works, and the reply is always validated locally with pydantic.
* The SDK is always given an explicit `httpx.Client` (injectable), so tests intercept it with respx and the
  process never picks up surprising proxy/transport defaults.
* Retries are bounded twice over: the SDK's own `max_retries` (small, configurable) and exactly one extra call of
  ours — a *repair* call telling the model what was wrong with its reply, or a plain retry after a transport
  failure. After that, callers fall back to heuristics; `structured()` never raises for model/transport problems.
* Token usage is recorded per call, with None where the server omitted `usage`.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from bot.assist.domain.config import LLMConfig, LLMSettings, resolve_settings
from bot.assist.domain.models import Usage
from bot.assist.domain.redaction import register_secrets, scrub_secrets
from bot.core.metrics import LLM_CALLS, LLM_TOKENS

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

# Failure reasons after which a second call cannot help (bad key, unknown model, …): go straight to heuristics.
_HOPELESS = {"auth", "not_found", "permission"}
_MAX_ECHO = 2000  # how much of a bad reply is shown back to the model in the repair call


class LLMCallError(Exception):
    """One call failed; `reason` is a short machine-readable tag used in notes (timeout, rate_limited, …)."""

    def __init__(self, reason: str, detail: str = "", content: str | None = None, usage: Usage | None = None):
        self.reason = reason
        self.detail = detail
        self.content = content
        self.usage = usage or Usage()
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class CallRecord:
    """What one HTTP-level call cost and how it ended (for logs, metrics and the benchmark)."""

    purpose: str
    model: str
    usage: Usage
    seconds: float
    outcome: str  # "ok" or a failure reason


@dataclass(frozen=True)
class Completion:
    content: str
    finish_reason: str | None
    usage: Usage
    model: str


@dataclass
class StructuredOutcome(Generic[T]):
    """Result of `LLMClient.structured`: a validated value, or None and the reason of the last failure."""

    value: T | None
    usage: Usage = field(default_factory=Usage)
    calls: int = 0
    failure: str | None = None
    repaired: bool = False
    problems: list[str] = field(default_factory=list)


Checker = Callable[[Any], list[str]]


def _usage_of(response: Any) -> Usage:
    u = getattr(response, "usage", None)
    if u is None:
        return Usage()

    def num(name: str) -> int | None:
        v = getattr(u, name, None)
        return v if isinstance(v, int) else None

    prompt, completion, total = num("prompt_tokens"), num("completion_tokens"), num("total_tokens")
    if total is None and prompt is not None and completion is not None:
        total = prompt + completion
    return Usage(prompt, completion, total)


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_json_object(content: str) -> dict[str, Any]:
    """Parse a model reply as one JSON object (tolerating a ```json fence or prose around it)."""
    text = content.strip()
    m = _FENCE.match(text)
    if m:
        text = m.group(1)
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise
        value = json.loads(text[start : end + 1])
    if not isinstance(value, dict):
        raise ValueError("the reply is JSON but not an object")
    return value


class LLMClient:
    """Chat-completions client with bounded retries, usage accounting and validated structured output."""

    def __init__(
        self,
        settings: LLMSettings,
        http_client: httpx.Client | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings
        register_secrets([settings.api_key])  # never echoed back to the model, even inside a pasted error
        self.http_client = http_client or httpx.Client(
            timeout=httpx.Timeout(settings.timeout_seconds, connect=min(10.0, settings.timeout_seconds)),
            follow_redirects=False,
        )
        import openai  # here, not at module load: the SDK costs ~45 MB that a server without an LLM never needs

        self._sdk = openai.OpenAI(
            # Local servers often need no key, but the SDK insists on one.
            api_key=settings.api_key or "not-needed",
            base_url=settings.base_url,
            timeout=settings.timeout_seconds,
            max_retries=settings.max_retries,
            http_client=self.http_client,
        )
        self._sleep = sleep
        self.history: list[CallRecord] = []

    @classmethod
    def from_config(
        cls,
        config: LLMConfig | None = None,
        env: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> "LLMClient | None":
        """Build a client from the `llm:` section and the environment; None when no LLM is configured."""
        settings = resolve_settings(config, env)
        return cls(settings, http_client) if settings else None

    @property
    def model(self) -> str:
        return self.settings.model

    def total_usage(self) -> Usage:
        total = Usage()
        for record in self.history:
            total = total + record.usage
        return total

    # -- one call -------------------------------------------------------------------------------------------

    def _response_format(self, schema: dict[str, Any], schema_name: str, mode: str) -> dict[str, Any]:
        if mode == "json_object":
            return {"type": "json_object"}
        return {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema, "strict": True}}

    def complete(
        self,
        messages: list[dict[str, str]],
        *,
        schema: dict[str, Any],
        schema_name: str,
        purpose: str = "chat",
        response_format: str | None = None,
    ) -> Completion:
        """One chat completion expecting JSON; raises LLMCallError with a reason on any failure."""
        s = self.settings
        # The last gate before text leaves the process: configured secrets and token formats, whatever the caller
        # already redacted (people stay as the caller's placeholders left them).
        messages = [{**m, "content": scrub_secrets(m["content"])} if isinstance(m.get("content"), str) else m
                    for m in messages]
        kwargs: dict[str, Any] = {
            "model": s.model,
            "messages": messages,
            "response_format": self._response_format(schema, schema_name, response_format or s.response_format),
            s.max_tokens_param: s.max_tokens,
        }
        if s.temperature is not None:
            kwargs["temperature"] = s.temperature
        import openai  # already loaded by the constructor; named here for its exception types

        started = time.monotonic()
        try:
            response = self._sdk.chat.completions.create(**kwargs)
            completion = self._check(response)
        except LLMCallError as exc:
            self._record(purpose, exc.usage, started, exc.reason)
            raise
        except openai.APITimeoutError as exc:  # subclass of APIConnectionError: test first
            self._record(purpose, Usage(), started, "timeout")
            raise LLMCallError("timeout", str(exc)) from exc
        except openai.APIConnectionError as exc:
            self._record(purpose, Usage(), started, "connection")
            raise LLMCallError("connection", str(exc)) from exc
        except openai.APIStatusError as exc:
            reason = _status_reason(exc.status_code)
            self._record(purpose, Usage(), started, reason)
            raise LLMCallError(reason, f"HTTP {exc.status_code}") from exc
        except Exception as exc:  # malformed response bodies and the like: never let them reach the caller
            self._record(purpose, Usage(), started, "bad_response")
            raise LLMCallError("bad_response", type(exc).__name__) from exc
        self._record(purpose, completion.usage, started, "ok")
        return completion

    def _check(self, response: Any) -> Completion:
        usage = _usage_of(response)
        choices = getattr(response, "choices", None)
        if not choices:
            raise LLMCallError("empty", "no choices in the reply", usage=usage)
        choice = choices[0]
        message = choice.message
        content = message.content or ""
        finish = choice.finish_reason
        if getattr(message, "refusal", None):
            raise LLMCallError("refusal", str(message.refusal)[:200], usage=usage)
        if finish == "content_filter":
            raise LLMCallError("content_filter", "the reply was stopped by a content filter", content, usage)
        if finish == "length":
            raise LLMCallError("truncated", "the reply hit the token limit", content, usage)
        if not content.strip():
            raise LLMCallError("empty", "the reply had no content", usage=usage)
        return Completion(content, finish, usage, getattr(response, "model", None) or self.settings.model)

    def _record(self, purpose: str, usage: Usage, started: float, outcome: str) -> None:
        record = CallRecord(purpose, self.settings.model, usage, time.monotonic() - started, outcome)
        self.history.append(record)
        LLM_CALLS.labels(outcome="ok" if outcome == "ok" else "failed").inc()
        for kind, tokens in (("prompt", usage.prompt_tokens), ("completion", usage.completion_tokens)):
            if tokens:
                LLM_TOKENS.labels(kind=kind).inc(tokens)
        log.info(
            "llm call purpose=%s model=%s outcome=%s prompt_tokens=%s completion_tokens=%s seconds=%.2f",
            purpose, record.model, outcome, usage.prompt_tokens, usage.completion_tokens, record.seconds,
        )

    # -- validated output with one repair --------------------------------------------------------------------

    def structured(
        self,
        messages: list[dict[str, str]],
        output_model: type[T],
        *,
        schema: dict[str, Any],
        schema_name: str,
        check: Checker | None = None,
        repair_prompt: Callable[[str], str] | None = None,
        purpose: str = "chat",
    ) -> StructuredOutcome[T]:
        """Call, parse, validate (`output_model` then `check` for semantic rules); on failure make one repair
        call telling the model what was wrong. Never raises for model or transport failures."""
        outcome: StructuredOutcome[T] = StructuredOutcome(value=None)
        convo = list(messages)
        mode = self.settings.response_format
        for attempt in (1, 2):
            outcome.calls += 1
            try:
                completion = self.complete(
                    convo, schema=schema, schema_name=schema_name, purpose=purpose, response_format=mode
                )
            except LLMCallError as exc:
                outcome.usage = outcome.usage + exc.usage
                outcome.failure = exc.reason
                if attempt == 2 or exc.reason in _HOPELESS:
                    return outcome
                if exc.reason in ("refusal", "content_filter", "truncated"):
                    convo = self._with_repair(messages, exc.content, _problem_text(exc.reason), repair_prompt)
                elif exc.reason == "bad_request" and mode == "json_schema":
                    # Most likely the server does not support json_schema: retry in plain JSON mode.
                    mode = "json_object"
                else:  # transport failure: same request again after a short pause
                    self._sleep(self.settings.retry_delay_seconds)
                continue
            outcome.usage = outcome.usage + completion.usage
            problems = _validate(completion.content, output_model, check)
            if isinstance(problems, BaseModel):
                outcome.value = problems  # type: ignore[assignment]
                outcome.failure = None
                outcome.repaired = attempt == 2
                return outcome
            outcome.failure = "invalid_json" if problems and problems[0].startswith("not JSON") else "schema_invalid"
            outcome.problems = problems
            if attempt == 1:
                convo = self._with_repair(messages, completion.content, "; ".join(problems), repair_prompt)
        return outcome

    @staticmethod
    def _with_repair(
        messages: list[dict[str, str]],
        bad_reply: str | None,
        problem: str,
        repair_prompt: Callable[[str], str] | None,
    ) -> list[dict[str, str]]:
        convo = list(messages)
        if bad_reply:
            convo.append({"role": "assistant", "content": bad_reply[:_MAX_ECHO]})
        text = repair_prompt(problem) if repair_prompt else f"Your previous reply was not usable: {problem}. Reply again with only the JSON object."
        convo.append({"role": "user", "content": text})
        return convo


def _status_reason(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    return {400: "bad_request", 401: "auth", 403: "permission", 404: "not_found"}.get(status, f"http_{status}")


def _problem_text(reason: str) -> str:
    return {
        "refusal": "you declined to answer; this is a routine operational analysis of the data provided",
        "content_filter": "the reply was stopped by a content filter; describe the technical data neutrally",
        "truncated": "the reply was cut off at the token limit; answer more briefly",
    }.get(reason, reason)


def _validate(content: str, output_model: type[T], check: Checker | None) -> T | list[str]:
    try:
        data = parse_json_object(content)
    except (ValueError, json.JSONDecodeError) as exc:
        return [f"not JSON ({exc})"]
    try:
        value = output_model.model_validate(data)
    except ValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()[:8]
        ]
    problems = check(value) if check else []
    return problems or value
