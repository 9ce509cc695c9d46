"""Redaction of secrets and personal data before any text is sent to a model.

Secrets become irreversible markers (`[REDACTED:aws_key]`): they are never stored and never mapped back.
E-mail addresses and Slack user ids become stable per-request placeholders (`[EMAIL-1]`, `responder-1`) so the model
can still tell people apart; the `Redactor.mapping` lets the bot map them back *for display only* (see
`bot.llm.display`). One `Redactor` is used per request so the same person gets the same placeholder in every field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
_GITHUB_TOKEN = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")
_ASSIGNMENT = re.compile(
    r"(?i)\b([\w.\-]*(?:password|passwd|pwd|secret|token|api[_-]?key)[\w.\-]*)"
    r"([\"']?\s*[:=]\s*[\"']?)"
    r"(?!\[REDACTED)([^\s\"',;&}<>]+)"
)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b")
# Slack ids: U/W + 8-11 upper-case alphanumerics with at least one digit (so WARNING or UNAVAILABLE are left alone).
_SLACK_MENTION = re.compile(r"<@([UW][A-Z0-9]{6,12})(?:\|[^>]*)?>")
_SLACK_USER = re.compile(r"(?<![A-Za-z0-9_\-])([UW](?=[A-Z0-9]*[0-9])[A-Z0-9]{8,11})(?![A-Za-z0-9_\-])")


@dataclass
class Redactor:
    """Redacts many texts for one request with shared, stable placeholders."""

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
        t = _PEM.sub(lambda m: self._mark("private_key"), text)
        t = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}:{self._mark('password')}@", t)
        t = _BEARER.sub(lambda m: f"{m.group(1)} {self._mark('bearer_token')}", t)
        t = _JWT.sub(lambda m: self._mark("jwt"), t)
        t = _AWS_KEY.sub(lambda m: self._mark("aws_key"), t)
        t = _AWS_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{self._mark('aws_secret')}", t)
        t = _SLACK_TOKEN.sub(lambda m: self._mark("slack_token"), t)
        t = _GITHUB_TOKEN.sub(lambda m: self._mark("github_token"), t)
        t = _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{self._mark('secret')}", t)
        t = _EMAIL.sub(lambda m: self._placeholder(m.group(0), "email", "[EMAIL-{}]"), t)
        t = _SLACK_MENTION.sub(lambda m: self.responder(m.group(1)), t)
        t = _SLACK_USER.sub(lambda m: self.responder(m.group(1)), t)
        return t


@dataclass(frozen=True)
class Redacted:
    text: str
    mapping: dict[str, str]


def redact(text: str, redactor: Redactor | None = None) -> Redacted:
    """Redact one text; pass a shared `Redactor` to keep placeholders stable across several texts."""
    r = redactor or Redactor()
    return Redacted(r.redact(text), dict(r.mapping))
