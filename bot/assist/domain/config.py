"""`llm:` section of firewatch.yaml and its resolution against the environment.

Precedence (decided here, documented in the report): environment variables override the file, so a deployment can
switch endpoint or model without editing the team's config; the API key is *only* read from the environment
variable named by `api_key_env` (secrets never live in firewatch.yaml).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ENV_BASE_URL = "OPENAI_BASE_URL"
ENV_MODEL = "FIREWATCH_LLM_MODEL"
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


class LLMConfig(BaseModel):
    """Settings for the OpenAI-compatible endpoint used for triage and RCA suggestions."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    base_url: str | None = None
    model: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    # SDK-level retries (429/5xx/connection) per call; kept small because a slow bot reply is worse than a
    # heuristic one. Our own layer adds exactly one repair/retry call on top.
    max_retries: int = Field(default=1, ge=0, le=5)
    max_tokens: int = Field(default=1200, ge=64, le=32000)
    # Newer OpenAI reasoning models reject `max_tokens` and want `max_completion_tokens`.
    max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    # json_schema: server-side constrained decoding where supported; json_object: for servers without it.
    # Either way the reply is validated locally with pydantic.
    response_format: Literal["json_schema", "json_object"] = "json_schema"
    temperature: float | None = Field(default=None, ge=0, le=2)
    # Pause before the second attempt after a transport failure (429/5xx/timeout).
    retry_delay_seconds: float = Field(default=0.5, ge=0, le=30)
    # Prices used only for reporting (benchmarks, usage summaries); 0 means unknown/free.
    price_per_1k_prompt_tokens: float = Field(default=0.0, ge=0)
    price_per_1k_completion_tokens: float = Field(default=0.0, ge=0)


@dataclass(frozen=True)
class LLMSettings:
    """Fully resolved, ready-to-use settings (config + environment)."""

    model: str
    base_url: str
    api_key: str | None
    timeout_seconds: float = 30.0
    max_retries: int = 1
    max_tokens: int = 1200
    max_tokens_param: str = "max_tokens"
    response_format: str = "json_schema"
    temperature: float | None = None
    retry_delay_seconds: float = 0.5
    price_per_1k_prompt_tokens: float = 0.0
    price_per_1k_completion_tokens: float = 0.0


def resolve_settings(config: LLMConfig | None = None, env: Mapping[str, str] | None = None) -> LLMSettings | None:
    """Merge config and environment; None when the LLM is disabled or not configured.

    "Configured" means a model and either a base URL or an API key (a bare API key means api.openai.com).
    """
    cfg = config or LLMConfig()
    env = os.environ if env is None else env
    if not cfg.enabled:
        return None
    base_url = (env.get(ENV_BASE_URL) or cfg.base_url or "").strip() or None
    model = (env.get(ENV_MODEL) or cfg.model or "").strip() or None
    api_key = (env.get(cfg.api_key_env) or "").strip() or None
    if not model or not (base_url or api_key):
        return None
    return LLMSettings(
        model=model,
        base_url=base_url or DEFAULT_OPENAI_BASE_URL,
        api_key=api_key,
        timeout_seconds=cfg.timeout_seconds,
        max_retries=cfg.max_retries,
        max_tokens=cfg.max_tokens,
        max_tokens_param=cfg.max_tokens_param,
        response_format=cfg.response_format,
        temperature=cfg.temperature,
        retry_delay_seconds=cfg.retry_delay_seconds,
        price_per_1k_prompt_tokens=cfg.price_per_1k_prompt_tokens,
        price_per_1k_completion_tokens=cfg.price_per_1k_completion_tokens,
    )
