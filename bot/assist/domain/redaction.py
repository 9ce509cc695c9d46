"""Redaction of secrets and personal data before any text is sent to a model.

Secrets become irreversible markers (`[REDACTED:aws_key]`): they are never stored and never mapped back.
E-mail addresses and Slack user ids become stable per-request placeholders (`[EMAIL-1]`, `responder-1`) so the model
can still tell people apart; the `Redactor.mapping` lets the bot map them back *for display only* (see
`bot.assist.domain.display`). One `Redactor` is used per request so the same person gets the same placeholder in every field.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.core.mentions import USER_MENTION

# Order matters: whole PEM blocks and URL credentials first (they contain characters other rules would split on),
# then token formats, then generic `key=value` assignments (which skip values already redacted), then people.
_PEM = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.DOTALL,
)
_URL_PASSWORD = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.\-]*://)([^\s:/@<>\"']+):([^\s@/<>\"']+)@")
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]{8,}=*", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_AWS_KEY = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
_AWS_SECRET = re.compile(
    r"(?i)(aws_secret_access_key|aws_secret_key|secretaccesskey)([\"']?\s*[:=]\s*[\"']?)([A-Za-z0-9/+=]{20,})"
)
_SLACK_TOKEN = re.compile(r"\b(?:xox[abpeors]|xapp)-[A-Za-z0-9\-]{8,}")
_SLACK_WEBHOOK = re.compile(r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]+")
_GITHUB_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")
# Vendor token formats, by their documented prefixes. Each is (kind, pattern); the lookbehind keeps them from
# matching inside a longer word (`task-…` is not an OpenAI key).
_EDGE = r"(?<![A-Za-z0-9_\-])"
_VENDOR_TOKENS = [
    ("openai_key", re.compile(_EDGE + r"sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d{2}-)?[A-Za-z0-9_\-]{16,}")),
    ("stripe_key", re.compile(_EDGE + r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}")),
    ("stripe_webhook_secret", re.compile(_EDGE + r"whsec_[A-Za-z0-9]{16,}")),
    ("gitlab_token", re.compile(_EDGE + r"gl(?:pat|dt|rt|ptt|cbt|oas|soat|ft|imt|agent)-[A-Za-z0-9_\-]{20,}")),
    ("google_api_key", re.compile(_EDGE + r"AIza[0-9A-Za-z_\-]{35}")),
    ("google_oauth_token", re.compile(_EDGE + r"ya29\.[0-9A-Za-z_\-]{20,}")),
    ("npm_token", re.compile(_EDGE + r"npm_[A-Za-z0-9]{36}")),
    ("pypi_token", re.compile(_EDGE + r"pypi-AgE[A-Za-z0-9_\-]{20,}")),
    ("sendgrid_key", re.compile(_EDGE + r"SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}")),
    ("twilio_key", re.compile(_EDGE + r"SK[0-9a-f]{32}")),
    ("digitalocean_token", re.compile(_EDGE + r"do[opr]_v1_[a-f0-9]{64}")),
    ("vault_token", re.compile(_EDGE + r"hv[sbr]\.[A-Za-z0-9_\-]{20,}")),
    ("atlassian_token", re.compile(_EDGE + r"ATATT[A-Za-z0-9_\-=]{20,}")),
    ("shopify_token", re.compile(_EDGE + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}")),
    ("huggingface_token", re.compile(_EDGE + r"hf_[A-Za-z0-9]{30,}")),
    ("azure_storage_key", re.compile(r"(?i)(AccountKey=)[A-Za-z0-9+/=]{40,}")),
]
_ASSIGNMENT = re.compile(
    r"(?i)\b([\w.\-]*(?:password|passwd|pwd|secret|token|api[_-]?key)[\w.\-]*)"
    r"([\"']?\s*[:=]\s*[\"']?)"
    r"(?!\[REDACTED)([^\s\"',;&}<>]+)"
)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")
# Bare Slack ids (mentions are matched by USER_MENTION): U/W + 8-11 upper-case alphanumerics with at least one
# digit, so WARNING or UNAVAILABLE are left alone.
_SLACK_USER = re.compile(r"(?<![A-Za-z0-9_\-])([UW](?=[A-Z0-9]*[0-9])[A-Z0-9]{8,11})(?![A-Za-z0-9_\-])")


# Firewatch's own secrets: environment variables with these names, and any whose name says it holds a secret.
SECRET_ENV_NAMES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "FIREWATCH_WEBHOOK_TOKEN",
                    "OPENAI_API_KEY", "PAGERDUTY_ROUTING_KEY", "GITHUB_TOKEN")
_SECRET_ENV_NAME = re.compile(r"(?i)(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ROUTING_KEY|PRIVATE_KEY|CREDENTIALS?)$")
# Shorter values are too likely to be ordinary words ("true", a port) to cut out of every text.
MIN_SECRET_LENGTH = 8

_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember secret values the process was configured with (from settings, or env names set in the config),
    so every later redaction removes them wherever they appear."""
    with _registered_lock:
        _registered.update(v.strip() for v in values if v and len(v.strip()) >= MIN_SECRET_LENGTH)


def configured_secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """Every known secret value: the registered ones and those in the environment. Longest first, so a secret
    that contains another is removed whole."""
    env = os.environ if env is None else env
    values = {v.strip() for k, v in env.items()
              if v and (k in SECRET_ENV_NAMES or _SECRET_ENV_NAME.search(k)) and len(v.strip()) >= MIN_SECRET_LENGTH}
    with _registered_lock:
        values |= _registered
    return sorted(values, key=len, reverse=True)


def remove_configured_secrets(text: str, secrets: Iterable[str] | None = None) -> tuple[str, int]:
    """`text` with every configured secret value replaced by a marker; also how many were replaced."""
    count = 0
    for value in configured_secrets() if secrets is None else secrets:
        if value in text:
            count += text.count(value)
            text = text.replace(value, "[REDACTED:configured_secret]")
    return text, count


@dataclass
class Redactor:
    """Redacts many texts for one request with shared, stable placeholders. `secrets` (default: the configured
    ones, read when the Redactor is made) are removed first, whatever their shape."""

    secrets: list[str] | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # placeholder -> original (people only)
    counts: dict[str, int] = field(default_factory=dict)  # kind -> how many redactions (for logs/tests)
    _reverse: dict[str, str] = field(default_factory=dict)

    def _mark(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return f"[REDACTED:{kind}]"

    def _placeholder(self, original: str, prefix: str, fmt: str) -> str:
        key = f"{prefix}:{original.lower() if prefix == 'email' else original}"
        if key not in self._reverse:
            n = sum(1 for k in self._reverse if k.startswith(prefix + ":")) + 1
            placeholder = fmt.format(n)
            self._reverse[key] = placeholder
            self.mapping[placeholder] = original
        self.counts[prefix] = self.counts.get(prefix, 0) + 1
        return self._reverse[key]

    def responder(self, user_id: str) -> str:
        """Placeholder for a Slack user id (also usable by callers to name people in structured input)."""
        return self._placeholder(user_id, "responder", "responder-{}")

    def redact(self, text: str | None) -> str:
        """Return `text` with secrets removed and people replaced by placeholders."""
        if not text:
            return text or ""
        if self.secrets is None:
            self.secrets = configured_secrets()
        t, found = remove_configured_secrets(text, self.secrets)
        if found:
            self.counts["configured_secret"] = self.counts.get("configured_secret", 0) + found
        t = _PEM.sub(lambda m: self._mark("private_key"), t)
        t = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}:{self._mark('password')}@", t)
        t = _BEARER.sub(lambda m: f"{m.group(1)} {self._mark('bearer_token')}", t)
        t = _JWT.sub(lambda m: self._mark("jwt"), t)
        t = _AWS_KEY.sub(lambda m: self._mark("aws_key"), t)
        t = _AWS_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{self._mark('aws_secret')}", t)
        t = _SLACK_TOKEN.sub(lambda m: self._mark("slack_token"), t)
        t = _GITHUB_TOKEN.sub(lambda m: self._mark("github_token"), t)
        t = _SLACK_WEBHOOK.sub(lambda m: self._mark("slack_webhook"), t)
        for kind, pattern in _VENDOR_TOKENS:
            if pattern.groups:
                t = pattern.sub(lambda m, kind=kind: f"{m.group(1)}{self._mark(kind)}", t)
            else:
                t = pattern.sub(lambda m, kind=kind: self._mark(kind), t)
        t = _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{self._mark('secret')}", t)
        t = _EMAIL.sub(lambda m: self._placeholder(m.group(0), "email", "[EMAIL-{}]"), t)
        t = USER_MENTION.sub(lambda m: self.responder(m.group(1)), t)
        t = _SLACK_USER.sub(lambda m: self.responder(m.group(1)), t)
        return t


@dataclass(frozen=True)
class Redacted:
    text: str
    mapping: dict[str, str]


def scrub_secrets(text: str) -> str:
    """Secrets only (configured values and token formats), people left as they are: the last pass over whatever
    is sent to a model, so a field a caller forgot to redact still cannot carry a key out."""
    if not text:
        return text or ""
    t, _ = remove_configured_secrets(text)
    t = _PEM.sub("[REDACTED:private_key]", t)
    for pattern, kind in ((_JWT, "jwt"), (_AWS_KEY, "aws_key"), (_SLACK_TOKEN, "slack_token"),
                          (_GITHUB_TOKEN, "github_token"), (_SLACK_WEBHOOK, "slack_webhook")):
        t = pattern.sub(f"[REDACTED:{kind}]", t)
    for kind, pattern in _VENDOR_TOKENS:
        t = pattern.sub((lambda m: m.group(1) + f"[REDACTED:{kind}]") if pattern.groups else f"[REDACTED:{kind}]", t)
    return t


def redact(text: str, redactor: Redactor | None = None) -> Redacted:
    """Redact one text; pass a shared `Redactor` to keep placeholders stable across several texts."""
    r = redactor or Redactor()
    return Redacted(r.redact(text), dict(r.mapping))
