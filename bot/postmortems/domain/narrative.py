"""Drafting the narrative sections of a postmortem with the model (`/incident postmortem`).

The facts of a postmortem (times, timeline, roles, follow-ups, metrics) are rendered by `bot.postmortems.domain.render` from
the incident record and never come from here. This module only drafts the prose sections (Summary, Impact,
Detection, Response, Contributing factors, What went well / poorly, Where we got lucky); `render_markdown(facts,
narrative=...)` marks that prose as draft text.

What leaves the process: the facts, redacted with one `Redactor` per request (secrets become `[REDACTED:…]`,
e-mail addresses `[EMAIL-n]`, Slack user ids *and the people's display names the facts carry* `responder-n`), inside
`<untrusted>` blocks of `prompts/llm/postmortem.j2`. Placeholders are mapped back only for the document, as plain
names (never `<@U…>` mentions), and mentions are neutralised (`bot.assist.domain.display.restore_for_display`).

What is accepted back, per section (checked before anything is used; a failed check costs the one repair call that
`LLMClient.structured` makes, with the problems listed so the model can fix them):
* shape and length: one string per requested section, at most `MAX_SECTION_CHARS` characters;
* blameless wording: `bot.postmortems.lint` on the section, with quotes and blockquotes *not* skipped (generated text
  has no business hiding wording in quotes) and responder placeholders written as `@responder-n` so the "person as a
  cause" rules see them;
* no invented clock times (every `HH:MM` must occur in the facts sent) and no invented URLs.

Decision on blameful text: one repair attempt asking for blameless wording; a section that still fails after it is
*dropped* (the document shows the authors' prompt for it) and reported in `NarrativeDraft.note`/`problems`; the other
sections are kept. Generated text never brings blaming language into a draft, even with `block_on_lint: false`.
The final text is linted once more after names are mapped back (a name from a Slack message could form a blaming
phrase only then); a section with findings there is dropped too.

`draft_narrative()` never raises: without a client, or when the model fails, it returns no sections and a note, and
the document keeps its prompts for the authors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.assist.domain.context import find_urls
from bot.assist.domain.display import DisplayName, restore_for_display
from bot.assist.domain.models import Usage
from bot.assist.domain.prompts import render, repair_prompt
from bot.assist.domain.redaction import Redactor
from bot.postmortems.domain.facts import PostmortemFacts, as_utc
from bot.postmortems.domain.linter import lint
from bot.postmortems.domain.render import SECTIONS, span_text
from bot.safety import truncate

if TYPE_CHECKING:  # the model client is an adapter; the rules only need its type
    from bot.assist.llm_client import LLMClient

log = logging.getLogger(__name__)

# The prose sections the model may draft, in document order (Supporting information is links the authors add).
NARRATIVE_SECTIONS: tuple[str, ...] = (
    "summary", "impact", "detection", "response", "contributing_factors", "what_went_well", "what_went_poorly",
    "where_we_got_lucky",
)
MAX_SECTION_CHARS = 2000
MAX_WORDS = 120
PURPOSE = "postmortem"

# Bounds on what is sent: a long incident must not blow the context window or the bill.
MAX_TIMELINE = 80
MAX_ENTRY_CHARS = 600
MAX_FOLLOW_UPS = 30
MAX_TITLE_CHARS = 300
MAX_SUMMARY_CHARS = 3000

_SECTION_BY_KEY = {s.key: s for s in SECTIONS}
_CLOCK = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):([0-5]\d)(?![\d])")
_PLACEHOLDER = re.compile(r"(?<![@\w-])(responder-[0-9]+)\b")
_QUOTES = re.compile(r"[\"“”„«»`]")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_QUOTE_MARK = re.compile(r"^\s*(?:>\s?)+")
_FENCE = re.compile(r"^\s*(?:`{3,}|~{3,}).*$")
_KIND = re.compile(r"[^a-z0-9_-]+")


@dataclass
class NarrativeDraft:
    """Narrative prose per section key (already mapped back for display), or {} and a note saying why not."""

    sections: dict[str, str]
    source: Literal["llm", "none"]
    note: str = ""
    usage: Usage = field(default_factory=Usage)
    llm_calls: int = 0
    repaired: bool = False
    problems: list[str] = field(default_factory=list)  # what made sections be left out (placeholder wording)


class NarrativeReply(BaseModel):
    """The model's reply: one string per section (missing or null sections are empty)."""

    model_config = ConfigDict(extra="ignore")
    summary: str = Field(default="", max_length=MAX_SECTION_CHARS)
    impact: str = Field(default="", max_length=MAX_SECTION_CHARS)
    detection: str = Field(default="", max_length=MAX_SECTION_CHARS)
    response: str = Field(default="", max_length=MAX_SECTION_CHARS)
    contributing_factors: str = Field(default="", max_length=MAX_SECTION_CHARS)
    what_went_well: str = Field(default="", max_length=MAX_SECTION_CHARS)
    what_went_poorly: str = Field(default="", max_length=MAX_SECTION_CHARS)
    where_we_got_lucky: str = Field(default="", max_length=MAX_SECTION_CHARS)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        # Accept titles as keys ("What went well") and null for "nothing to say".
        if not isinstance(data, Mapping):
            return data
        return {_section_key(str(k)): ("" if v is None else v) for k, v in data.items()}


def _section_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def narrative_schema(sections: Iterable[str]) -> dict[str, Any]:
    keys = list(sections)
    return {
        "type": "object",
        "additionalProperties": False,
        "required": keys,
        "properties": {k: {"type": "string"} for k in keys},
    }


# -- preparing the facts -----------------------------------------------------------------------------------------


@dataclass
class PreparedFacts:
    redactor: Redactor
    incident: dict[str, Any]
    responders: str
    metrics: str
    timeline: list[dict[str, Any]]
    follow_ups: list[dict[str, Any]]
    omitted_events: int = 0

    @property
    def mapping(self) -> dict[str, str]:
        return self.redactor.mapping


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " …[truncated]"


def _when(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else None


class _People:
    """Display names the facts carry (responders, authors, owners) → `responder-n`, also inside free text."""

    def __init__(self, redactor: Redactor, names: Iterable[str | None]):
        self.r = redactor
        unique = sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True)
        self.pattern = (
            re.compile(r"(?<![\w])(" + "|".join(re.escape(n) for n in unique) + r")(?![\w])") if unique else None
        )

    def person(self, name: str | None) -> str | None:
        if not name or not name.strip():
            return None
        redacted = self.r.redact(name.strip())
        if redacted != name.strip():  # an e-mail or a Slack id: the redactor already gave it a placeholder
            return redacted
        return self.r.responder(name.strip())

    def text(self, text: str | None) -> str:
        t = self.r.redact(text or "")
        if self.pattern is not None:
            t = self.pattern.sub(lambda m: self.r.responder(m.group(1)), t)
        return t


def prepare_facts(facts: PostmortemFacts) -> PreparedFacts:
    """Redact everything that will leave the process (one Redactor, stable placeholders)."""
    r = Redactor()
    names: list[str | None] = [n for members in facts.responders.values() for n in members]
    names += [e.author for e in facts.timeline] + [f.owner for f in facts.follow_ups]
    people = _People(r, names)

    responders = "\n".join(
        f"{people.text(str(role))}: {', '.join(p for p in (people.person(str(n)) for n in members) if p) or 'none'}"
        for role, members in facts.responders.items()
    )
    metrics = "\n".join(f"{people.text(str(k))}: {people.text(str(v))}" for k, v in facts.metrics.items())
    entries = facts.sorted_timeline()
    timeline = []
    for i, e in enumerate(entries[:MAX_TIMELINE], start=1):
        author = people.person(e.author)
        body = people.text(_clip(e.text or "", MAX_ENTRY_CHARS))
        timeline.append({
            "id": f"T{i}",
            "time": _when(e.at),
            "kind": _KIND.sub("_", (e.kind or "event").lower())[:24] or "event",
            "text": f"{body}\n(by {author})" if author else body,
        })
    follow_ups = []
    for i, f in enumerate(facts.follow_ups[:MAX_FOLLOW_UPS], start=1):
        owner = people.person(f.owner)
        detail = "; ".join(p for p in (f"type: {f.type}" if f.type else "", f"owner: {owner}" if owner else "",
                                        "done" if f.done else "open") if p)
        follow_ups.append({"id": f"A{i}", "text": f"{people.text(_clip(f.text, MAX_ENTRY_CHARS))} ({detail})"})
    total = None
    start, end = as_utc(facts.started_at), as_utc(facts.resolved_at or facts.mitigated_at)
    if start is not None and end is not None:
        total = span_text(end - start)
    incident = {
        "id": facts.incident_id,
        "title": people.text(_clip(facts.title or "", MAX_TITLE_CHARS)),
        "severity": _KIND.sub("_", str(facts.severity or "").lower())[:24] or None,
        "status": _KIND.sub("_", str(facts.status or "").lower())[:24] or None,
        "started_at": _when(facts.started_at),
        "detected_at": _when(facts.detected_at),
        "mitigated_at": _when(facts.mitigated_at),
        "resolved_at": _when(facts.resolved_at),
        "duration": total,
        "services": people.text(", ".join(facts.services)),
        "summary": people.text(_clip(facts.summary or "", MAX_SUMMARY_CHARS)),
    }
    return PreparedFacts(r, incident, responders, metrics, timeline, follow_ups,
                         omitted_events=max(0, len(entries) - MAX_TIMELINE))


def _section_specs(keys: Iterable[str]) -> list[dict[str, str]]:
    return [{"key": k, "title": _SECTION_BY_KEY[k].title, "guidance": _SECTION_BY_KEY[k].hint} for k in keys]


def build_narrative_messages(prepared: PreparedFacts, sections: Iterable[str]) -> list[dict[str, str]]:
    specs = _section_specs(sections)
    system = render("postmortem.j2", part="system", sections=specs, max_words=MAX_WORDS)
    user = render(
        "postmortem.j2", part="user", sections=specs, max_words=MAX_WORDS, incident=prepared.incident,
        responders=prepared.responders, metrics=prepared.metrics, timeline=prepared.timeline,
        follow_ups=prepared.follow_ups,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


# -- checking the reply ------------------------------------------------------------------------------------------


def _clock_times(text: str) -> set[str]:
    return {f"{int(h):02d}:{m}" for h, m in _CLOCK.findall(text or "")}


def clean_markdown(text: str) -> str:
    """Keep generated prose inside its section: no headings, blockquotes or code fences; tidy blank lines."""
    lines = []
    for line in str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _FENCE.match(line):
            continue
        line = _QUOTE_MARK.sub("", line)
        line = _HEADING.sub("", line)
        lines.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def lint_view(text: str) -> str:
    """What the blameless check reads: quotes and quote marks removed (the document linter skips quoted text and
    blockquotes; generated text may not hide wording there), placeholders as `@responder-n` mentions."""
    t = _QUOTES.sub(" ", clean_markdown(text))
    return _PLACEHOLDER.sub(r"@\1", t)


def _lint_problems(key: str, text: str) -> list[str]:
    out = []
    for f in lint(lint_view(text)):
        hint = f.suggestion
        if f.rewrite:
            hint += f' Try: "{f.rewrite}".'
        out.append(f"section {key!r} is not blameless: \"{' '.join(f.phrase.split())}\" ({f.rule}): {hint}")
    return out


def section_problems(
    reply: NarrativeReply, keys: Iterable[str], allowed_times: set[str], allowed_urls: set[str]
) -> dict[str, list[str]]:
    """Problems per section (placeholder wording only: safe to show to the model in the repair call)."""
    found: dict[str, list[str]] = {}
    for key in keys:
        text = (getattr(reply, key, "") or "").strip()
        if not text:
            continue
        problems = _lint_problems(key, text)
        invented = sorted(_clock_times(text) - allowed_times)
        if invented:
            problems.append(f"section {key!r} mentions time(s) {', '.join(invented)} that are not in the facts; "
                            "use only times that appear in the data, or none")
        urls = [u for u in find_urls(text) if u not in allowed_urls]
        if urls:
            problems.append(f"section {key!r} contains URL(s) that are not in the facts; remove them")
        if problems:
            found[key] = problems
    return found


# -- the entry point ---------------------------------------------------------------------------------------------


def _requested(sections: Iterable[str] | None) -> tuple[list[str], list[str]]:
    keys: list[str] = []
    ignored: list[str] = []
    for name in sections if sections is not None else NARRATIVE_SECTIONS:
        key = _section_key(str(name))
        if key in NARRATIVE_SECTIONS:
            if key not in keys:
                keys.append(key)
        else:  # unknown, or a facts-only section (timeline, action items): never generated
            ignored.append(str(name))
    return keys, ignored


def draft_narrative(
    facts: PostmortemFacts,
    client: LLMClient | None,
    *,
    sections: Iterable[str] | None = NARRATIVE_SECTIONS,
    display_name: DisplayName | None = None,
) -> NarrativeDraft:
    """Draft the narrative sections from `facts` with the model. Never raises; {} and a note when it cannot."""
    try:
        keys, ignored = _requested(sections)
    except Exception:
        log.exception("postmortem narrative: bad section list")
        return NarrativeDraft({}, "none", "narrative not drafted: internal error; prompts for the authors")
    if client is None:
        return NarrativeDraft({}, "none", "LLM not configured; prompts for the authors")
    if not keys:
        return NarrativeDraft({}, "none", "no narrative sections requested; prompts for the authors")
    try:
        draft = _llm_narrative(facts, client, keys, display_name)
    except Exception:  # a bug in our own post-processing must not take drafting down
        log.exception("postmortem narrative: unexpected error in the LLM path")
        return NarrativeDraft({}, "none", "LLM unavailable: internal error; prompts for the authors")
    if ignored:
        draft.note = "; ".join(p for p in (draft.note, f"ignored section(s) {', '.join(ignored)}") if p)
    return draft


def _accepted_sections(reply: NarrativeReply, keys: list[str], per: dict[str, list[str]], prepared: PreparedFacts,
                       display_name: DisplayName | None) -> tuple[dict[str, str], list[str], list[str]]:
    """The sections that passed the checks and lint clean once names are restored: (sections, dropped, problems)."""
    problems: list[str] = []
    out: dict[str, str] = {}
    dropped: list[str] = []
    for key in keys:
        raw = (getattr(reply, key, "") or "").strip()
        if not raw:
            continue
        if key in per:
            dropped.append(key)
            problems.extend(per[key])
            continue
        shown = truncate(restore_for_display(clean_markdown(raw), prepared.mapping, display_name), MAX_SECTION_CHARS)
        final = lint(lint_view(shown))
        if final:
            dropped.append(key)
            problems.extend(f"section {key!r}: {f.rule}" for f in final)  # no phrase: it may contain a name
            continue
        if shown.strip():
            out[key] = shown
    return out, dropped, problems


def _draft_notes(outcome: Any, out: dict[str, str], dropped: list[str]) -> list[str]:
    """What the authors should know about how the narrative was drafted."""
    notes: list[str] = []
    if outcome.value is not None and outcome.repaired:
        notes.append("LLM reply repaired after one attempt")
    if dropped:
        titles = ", ".join(_SECTION_BY_KEY[k].title for k in dropped)
        notes.append(f"{len(dropped)} section(s) left as prompts for the authors ({titles}): still not blameless or "
                     "not supported by the facts after one repair")
    if outcome.value is None and not dropped:
        notes.append(f"last LLM reply unusable ({outcome.failure}); the earlier reply was used")
    if not out:
        notes.append("no narrative drafted; prompts for the authors")
    return notes


def _llm_narrative(
    facts: PostmortemFacts, client: LLMClient, keys: list[str], display_name: DisplayName | None
) -> NarrativeDraft:
    prepared = prepare_facts(facts)
    messages = build_narrative_messages(prepared, keys)
    sent = "\n".join(m["content"] for m in messages)
    allowed_times = _clock_times(sent)
    allowed_urls = {u for u in find_urls(sent)}
    seen: list[NarrativeReply] = []

    def check(reply: NarrativeReply) -> list[str]:
        seen.append(reply)
        per = section_problems(reply, keys, allowed_times, allowed_urls)
        return [p for problems in per.values() for p in problems][:12]

    outcome = client.structured(
        messages,
        NarrativeReply,
        schema=narrative_schema(keys),
        schema_name="postmortem",
        check=check,
        repair_prompt=_repair,
        purpose=PURPOSE,
    )
    reply = outcome.value if outcome.value is not None else (seen[-1] if seen else None)
    if reply is None:
        return NarrativeDraft({}, "none", f"LLM unavailable: {outcome.failure}; prompts for the authors",
                              outcome.usage, outcome.calls)

    per = section_problems(reply, keys, allowed_times, allowed_urls)
    out, dropped, problems = _accepted_sections(reply, keys, per, prepared, display_name)
    return NarrativeDraft(
        sections=out,
        source="llm" if out else "none",
        note="; ".join(_draft_notes(outcome, out, dropped)),
        usage=outcome.usage,
        llm_calls=outcome.calls,
        repaired=outcome.repaired,
        problems=problems,
    )


def _repair(problem: str) -> str:
    return repair_prompt(
        problem + ". Use blameless wording: describe systems, conditions and context, not people as causes, "
        "and no counterfactuals"
    )


__all__ = [
    "MAX_SECTION_CHARS", "NARRATIVE_SECTIONS", "NarrativeDraft", "NarrativeReply", "build_narrative_messages",
    "draft_narrative", "narrative_schema", "prepare_facts",
]

