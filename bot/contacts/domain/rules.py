"""Notification rules: which methods to try, and when, after a page reached a person (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.contacts.domain.config import ContactConfig, NotificationRuleConfig

# For people without rules of their own (methods added in Slack): push and email at once, SMS after a minute,
# a phone call after three - the example, which wakes people in increasing order of intrusiveness.
DEFAULT_RULES = (
    NotificationRuleConfig(after="0s", via=["slack", "push", "email"]),
    NotificationRuleConfig(after="1m", via=["sms"]),
    NotificationRuleConfig(after="3m", via=["voice"]),
)
OPEN_PAGE_STATES = ("triggered", "escalated")


@dataclass(frozen=True)
class Method:
    """A usable contact method: kind (sms, voice, push, email) and address."""

    kind: str
    address: str


@dataclass(frozen=True)
class Step:
    """Step `index` of a person's plan: at `after` since the page reached them, try `methods`."""

    index: int
    after: timedelta
    methods: tuple[Method, ...]

    def due(self, reached_at: datetime) -> datetime:
        return reached_at + self.after


def methods_of(contact: ContactConfig | None, added: list[Method]) -> list[Method]:
    """YAML methods then Slack-added ones, duplicates dropped (order kept)."""
    out: list[Method] = []
    for m in ([Method(m.type, m.address) for m in contact.methods] if contact else []) + list(added):
        if m not in out:
            out.append(m)
    return out


def plan(contact: ContactConfig | None, added: list[Method]) -> list[Step]:
    """The steps to run for one person, by delay; steps with nothing to send (Slack only) are left out."""
    methods = methods_of(contact, added)
    rules = contact.rules if contact and contact.rules else DEFAULT_RULES
    steps: list[Step] = []
    for rule in sorted(rules, key=lambda r: r.after):
        chosen = tuple(m for kind in rule.via if kind != "slack" for m in methods if m.kind == kind)
        if chosen:
            steps.append(Step(index=len(steps), after=rule.after, methods=chosen))
    return steps


def is_open(state: str) -> bool:
    """Whether a page in `state` still wants people woken (not acknowledged, not resolved)."""
    return state in OPEN_PAGE_STATES


def mask(address: str) -> str:
    """An address fit for a Slack message or log: the last 4 characters of a number, the domain of an email."""
    if address.startswith("+"):
        return "…" + address[-4:]
    if "@" in address and "://" not in address:
        return "…@" + address.split("@", 1)[1]
    if "://" in address:
        scheme, rest = address.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}/…"
    return address
