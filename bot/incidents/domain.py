"""Incident rules in plain Python: command grammar, channel names, statuses, roles and metrics.

No Slack and no database here, so every rule can be read and tested on its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.mentions import USER_MENTION, mentioned_user
from bot.core.numbers import small_int
from bot.core.slugs import slugify

STATUSES = ("investigating", "identified", "monitoring", "resolved")
ROLES = ("commander", "comms", "scribe")
FOLLOW_UP_KINDS = ("mitigate", "prevent", "process")
CHANNEL_NAME_MAX = 80
TITLE_MAX = 150


ROLE_ALIASES = {"ic": "commander", "lead": "commander", "incident-commander": "commander"}
_SPACED_SEVERITY = re.compile(r"^(sev)\s+(\d+)\b", re.IGNORECASE)

_LINK = re.compile(r"<?(https?://[^\s|>]+)(?:\|[^>]*)?>?")


def first_link(text: str) -> str | None:
    """The first http(s) URL in `text` (Slack wraps links as `<url>` or `<url|label>`), for action-item links."""
    m = _LINK.search(text or "")
    return m.group(1) if m else None


class UsageError(ValueError):
    """Malformed `/incident` input; the message says what was wrong and is shown to the user."""


@dataclass(frozen=True)
class Command:
    """A parsed `/incident` command."""

    name: str
    args: dict[str, object] = field(default_factory=dict)


def parse_incident_command(text: str, severities: list[str]) -> Command:
    """Parse the text after `/incident` (canonical sub-command names; aliases are `bot.incidents.commands`'s).
    Raises UsageError naming what was wrong."""
    text = (text or "").strip()
    if not text:
        return Command("help")
    verb, _, rest = text.partition(" ")
    verb = verb.lower()
    rest = rest.strip()
    if verb in ("help", "list"):
        return Command(verb)
    if verb in ("triage", "rca", "postmortem"):
        return Command(verb, {"text": rest})
    if verb == "resolve":
        return Command("resolve", {"summary": rest or None})
    if verb == "timeline" and not rest:
        return Command("timeline_show")
    if verb in ("update", "timeline"):
        if not rest:
            raise UsageError(f"text is needed: `/incident {verb} <text>`")
        return Command(verb, {"text": rest})
    parser = _PARSERS.get(verb)
    if parser is None:
        raise UsageError(f"unknown command `{verb}`")
    return parser(rest, severities)


def _parse_declare(rest: str, severities: list[str]) -> Command:
    if not rest:
        return Command("declare_modal")
    first, _, remainder = normalize_severity_words(rest).partition(" ")
    severity = None
    if first.lower() in severities:
        severity, rest = first.lower(), remainder.strip()
    elif re.fullmatch(r"sev\d+", first.lower()):
        raise UsageError(f"unknown severity `{first}`; use one of {', '.join(severities)}")
    if not rest:
        raise UsageError("a title is needed: `/incident declare [sevN] <title>`")
    # A title over TITLE_MAX is not refused: the service shortens it and keeps the text as the description.
    return Command("declare", {"severity": severity, "title": rest})


def _parse_status(rest: str, _severities: list[str]) -> Command:
    status = rest.lower()
    if status not in STATUSES:
        raise UsageError(f"unknown status `{rest or '(none)'}`; use one of {', '.join(STATUSES)}")
    return Command("status", {"status": status})


def _parse_severity(rest: str, severities: list[str]) -> Command:
    sev = normalize_severity_words(rest).lower()
    if sev.isdigit():
        sev = f"sev{sev}"
    if sev not in severities:
        raise UsageError(f"unknown severity `{rest or '(none)'}`; use one of {', '.join(severities)}")
    return Command("sev", {"severity": sev})


def _parse_role(rest: str, _severities: list[str]) -> Command:
    role, _, who = rest.partition(" ")
    role = ROLE_ALIASES.get(role.lower(), role.lower())
    if role not in ROLES:
        raise UsageError(f"unknown role `{role or '(none)'}`; use one of {', '.join(ROLES)}")
    user = mentioned_user(who)
    if user is None:
        raise UsageError(f"name a person with an @mention: `/incident role {role} @user`")
    return Command("role", {"role": role, "user": user})


def _parse_followup(rest: str, _severities: list[str]) -> Command:
    if not rest:
        raise UsageError("text is needed: `/incident followup [mitigate|prevent|process] <text> [@owner]`")
    kind = "prevent"
    first, _, remainder = rest.partition(" ")
    if first.lower() in FOLLOW_UP_KINDS and remainder.strip():
        kind, rest = first.lower(), remainder.strip()
    owner = None
    mentions = list(USER_MENTION.finditer(rest))
    if mentions and rest.endswith(mentions[-1].group(0)):
        owner = mentions[-1].group(1)
        rest = rest[: mentions[-1].start()].strip()
        if not rest:
            raise UsageError("text is needed before the owner: `/incident followup <text> [@owner]`")
    return Command("followup", {"text": rest, "owner": owner, "kind": kind})


def _parse_repair(rest: str, _severities: list[str]) -> Command:
    number = None
    if rest:
        number = small_int(rest.lstrip("#"))
        if number is None:
            raise UsageError("`/incident repair [number]` takes an incident number")
    return Command("repair", {"number": number})


_PARSERS = {"declare": _parse_declare, "status": _parse_status, "sev": _parse_severity, "severity": _parse_severity,
            "role": _parse_role, "followup": _parse_followup, "follow-up": _parse_followup, "repair": _parse_repair}


def normalize_severity_words(text: str) -> str:
    """`sev 1 …` -> `sev1 …`: people type the space, the severity names have none."""
    return _SPACED_SEVERITY.sub(lambda m: f"{m.group(1)}{m.group(2)}", text.strip(), count=1)


def shorten_title(text: str, limit: int = TITLE_MAX) -> str:
    """`text` cut to `limit` characters at a word boundary, ending in `…` when anything was cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def channel_name(prefix: str, number: int, title: str, attempt: int = 1) -> str:
    """`<prefix>-<number>-<slug>`, at most 80 characters of `a-z0-9-_`; attempts after a `name_taken` add `-N`."""
    head = f"{prefix}-{number}"
    tail = f"-{attempt}" if attempt > 1 else ""
    room = CHANNEL_NAME_MAX - len(head) - len(tail) - 1
    slug = slugify(title, room) if room > 0 else ""
    return f"{head}-{slug}{tail}" if slug else f"{head}{tail}"


def can_transition(current: str, new: str) -> bool:
    """Any change of status is allowed except leaving or re-entering `resolved` by `status` (reopen is explicit)."""
    return new != current and current != "resolved"


@dataclass(frozen=True)
class IncidentMetrics:
    """Durations in seconds from declaration; None where the milestone has not happened."""

    time_to_acknowledge: float | None
    time_to_mitigate: float | None
    time_to_resolve: float | None


def compute_metrics(declared_at: datetime, acknowledged_at: datetime | None, mitigated_at: datetime | None,
                    resolved_at: datetime | None) -> IncidentMetrics:
    def since(t: datetime | None) -> float | None:
        return None if t is None else max(0.0, (t - declared_at).total_seconds())

    return IncidentMetrics(since(acknowledged_at), since(mitigated_at), since(resolved_at))


def topic_text(severity: str, status: str, commander_id: str | None) -> str:
    """Channel topic: severity · status · commander, within Slack's 250-character limit."""
    commander = f"<@{commander_id}>" if commander_id else "no commander yet"
    return f"{severity.upper()} · {status} · commander: {commander}"[:250]


def ts_to_datetime(ts: str) -> datetime:
    """A Slack message ts (`1503435956.000247`) as an aware UTC datetime."""
    from datetime import timezone

    return datetime.fromtimestamp(float(ts), tz=timezone.utc)
