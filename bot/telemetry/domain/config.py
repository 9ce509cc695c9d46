"""`evidence:`, `slos:` and `slos_digest:` sections of firewatch.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.slack_ids import ChannelId


class PrometheusConfig(BaseModel):
    """`evidence.prometheus`: the server, the env var holding its bearer token, and the bounds of every query."""

    model_config = ConfigDict(extra="forbid")
    url: str
    token_env: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_series: int = Field(default=20, ge=1, le=500)
    max_points: int = Field(default=400, ge=10, le=11000)  # Prometheus itself refuses more than 11 000
    lookback_seconds: float = Field(default=1800.0, gt=0, le=7 * 86400)
    lookahead_seconds: float = Field(default=600.0, ge=0, le=86400)
    # An alert's generatorURL names the expression to run; by default only links to this server's host count.
    trust_generator_urls: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")


class EvidenceConfig(BaseModel):
    """Where evidence comes from (`evidence.prometheus: {url, token_env}`)."""

    model_config = ConfigDict(extra="forbid")
    prometheus: PrometheusConfig | None = None


class SloConfig(BaseModel):
    """One SLO: SLI as good/total PromQL, objective, window."""

    model_config = ConfigDict(extra="forbid")
    name: str
    service: str | None = None
    good: str = ""
    total: str = ""
    objective: float = Field(default=0.999, gt=0, lt=1)
    window_days: int = Field(default=28, ge=1, le=90)


class SlosDigestConfig(BaseModel):
    """`slos_digest`: every Monday 09:00 UTC, each SLO's remaining budget and burn status posted to `channel`."""

    model_config = ConfigDict(extra="forbid")
    channel: ChannelId
    enabled: bool = True


def cross_check(config) -> list[str]:
    """Problems spanning sections (unknown services), one `key.path: message` line each."""
    known = {s.name for s in getattr(config, "services", [])}
    problems = [f"slos[{i}].service: unknown service {slo.service!r}; add it under `services:`"
                for i, slo in enumerate(getattr(config, "slos", [])) if slo.service and slo.service not in known]
    digest = getattr(config, "slos_digest", None)
    if digest is not None and digest.enabled:
        if not getattr(config, "slos", []):
            problems.append("slos_digest: enabled but no `slos:` are configured; add SLOs or set enabled: false")
        if getattr(getattr(config, "evidence", None), "prometheus", None) is None:
            problems.append("slos_digest: enabled but `evidence.prometheus` is not set; the digest reads Prometheus")
    return problems
