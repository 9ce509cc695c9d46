"""Render a postmortem draft (Markdown with YAML front matter) from incident facts.

The template lives in `prompts/postmortem/postmortem.md.j2` so teams can restyle it without touching code. Facts
(times, timeline, roles, follow-ups, metrics) always come from `PostmortemFacts`. Narrative sections may be
pre-filled with generated prose (`narrative=`), which the document marks as draft text; without it each narrative
section holds a prompt for the authors (an HTML comment plus a visible italic line).

The front matter is serialised with `yaml.safe_dump`, never assembled by hand in the template, so titles with
colons, quotes, `#`, newlines or emoji always round-trip through `yaml.safe_load`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import yaml

from bot.core import durations
from bot.core.slugs import slugify
from bot.postmortems.domain.config import PostmortemsConfig
from bot.postmortems.domain.facts import PostmortemFacts, as_utc

PROMPTS_DIR = Path(__file__).resolve().parents[3] / "prompts" / "postmortem"
DEFAULT_TEMPLATE = PROMPTS_DIR / "postmortem.md.j2"
DRAFT_MARKER = "> _Draft text, generated; review before publishing._"
SLUG_MAX_LENGTH = 60


@dataclass(frozen=True)
class Section:
    """A narrative section: its heading, the hidden hint and the visible prompt shown when it is empty."""

    key: str
    title: str
    hint: str
    prompt: str


# Narrative sections in document order. Timeline and Action items are facts only and cannot be narrated.
# The prompts are worded to pass the blameless linter (a fresh draft must lint clean).
SECTIONS: tuple[Section, ...] = (
    Section("summary", "Summary", "Describe the incident in two or three sentences: what broke, for whom, for how long.",
            "Summarise what happened, who was affected and how it was resolved."),
    Section("impact", "Impact", "Describe the impact on customers and the business: who, how many, how long, how badly.",
            "Describe customer and business impact, with numbers where possible."),
    Section("detection", "Detection", "Describe how the problem was noticed: which alert, dashboard or report, and how long it took.",
            "Describe how the problem was noticed and how detection could be faster."),
    Section("response", "Response", "Describe how the response unfolded: who was paged, what was tried, what mitigated the problem.",
            "Describe the response: what was tried, what worked, what mitigated the problem."),
    Section("contributing_factors", "Contributing factors",
            "Describe the conditions that made the incident possible: systems, tooling, process, context. Focus on how, not who.",
            "List the technical and organisational conditions that combined to produce this incident."),
    Section("what_went_well", "What went well", "Describe what helped: tooling, practices, people's actions.",
            "Describe what worked well during the response."),
    Section("what_went_poorly", "What went poorly", "Describe friction in tooling, alerting, documentation or process.",
            "Describe where tooling, alerting, documentation or process got in the way."),
    Section("where_we_got_lucky", "Where we got lucky", "Describe near misses and factors outside our control that limited the damage.",
            "Describe near misses and circumstances that limited the damage this time."),
    Section("supporting_information", "Supporting information", "Add graphs, dashboards, logs and related incidents.",
            "Add links to graphs, dashboards, logs and related incidents."),
)
SECTION_KEYS = tuple(s.key for s in SECTIONS)
FACT_ONLY_SECTIONS = ("timeline", "action_items")


def _section_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def normalise_narrative(narrative: Mapping[str, str] | None) -> dict[str, str]:
    """Map section names ("What went well", "what_went_well") to keys; refuse unknown and fact-only sections."""
    out: dict[str, str] = {}
    for name, text in (narrative or {}).items():
        key = _section_key(name)
        if key in FACT_ONLY_SECTIONS:
            raise ValueError(f"narrative section {name!r} is built from facts only and cannot be generated")
        if key not in SECTION_KEYS:
            raise ValueError(f"unknown narrative section {name!r}; use one of {', '.join(SECTION_KEYS)}")
        if text is not None and str(text).strip():
            out[key] = _block(str(text))
    return out


def slug(title: str, max_length: int = SLUG_MAX_LENGTH) -> str:
    """The document's file-name slug: `bot.core.slugs.slugify` within 60 characters, `incident` if nothing is left."""
    return slugify(title, max_length, fallback="incident")


def _reference_time(facts: PostmortemFacts) -> datetime:
    for value in (facts.started_at, facts.detected_at, facts.mitigated_at, facts.resolved_at):
        if value is not None:
            return as_utc(value)  # type: ignore[return-value]
    raise ValueError(f"{facts.incident_id} has no start time; the document path needs its year")


def document_path(config: PostmortemsConfig, facts: PostmortemFacts) -> str:
    """Repository-relative path of the document, from `config.path` (year/month/day of the incident's start)."""
    when = _reference_time(facts)
    path = config.path.format(
        year=when.year,
        month=when.month,
        day=when.day,
        number=facts.number,
        slug=slug(facts.title),
        prefix=facts.channel_prefix.lower(),
    )
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if path.startswith("/") or any(p in ("..", ".git") for p in parts) or not parts:
        raise ValueError(f"document path {path!r} must stay inside the repository")
    return "/".join(parts)


def span_text(value: timedelta | None) -> str | None:
    """A span in the one display style (`1h 23m`, `bot.core.durations`); None when unknown or negative (clock skew
    between Slack and the database must not put a minus sign in a postmortem)."""
    if value is None or value < timedelta(0):
        return None
    return durations.format_duration(value)


def _span(start: datetime | None, end: datetime | None) -> timedelta | None:
    if start is None or end is None:
        return None
    return as_utc(end) - as_utc(start)  # type: ignore[operator]


def _iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _utc(value: datetime | None) -> str:
    value = as_utc(value)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "unknown"


def _neutralise_comments(text: str) -> str:
    # Fact and generated text must not open an HTML comment: it would hide the rest of the document from readers
    # and from the blameless linter.
    return text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")


def _inline(value: Any) -> str:
    """One Markdown line: newlines and runs of whitespace collapse to a single space."""
    return _neutralise_comments(" ".join(str(value).split()))


def _cell(value: Any) -> str:
    return _inline(value).replace("|", "\\|")


def _block(value: Any) -> str:
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    # A lone `---` line inside the body would read as a front matter fence to naive tools.
    text = re.sub(r"(?m)^(\s*)---\s*$", r"\1***", text)
    return _neutralise_comments(text)


def _url(value: Any) -> str:
    # Keep the URL usable inside `(...)`: percent-encode what would end the link early.
    return quote(str(value).strip(), safe=":/?#[]@!$&'*+,;=%~-._")


def _role_title(role: str) -> str:
    words = re.sub(r"[_-]+", " ", role).strip()
    return words[:1].upper() + words[1:]


def front_matter(facts: PostmortemFacts) -> dict[str, Any]:
    """The YAML front matter as data (ordered as it appears in the document)."""
    total = _span(facts.started_at, facts.resolved_at or facts.mitigated_at)
    return {
        "incident": facts.number,
        "id": facts.incident_id,
        "title": facts.title,
        "severity": facts.severity,
        "status": "draft",
        "incident_status": facts.status,
        "started_at": _iso(facts.started_at),
        "detected_at": _iso(facts.detected_at),
        "mitigated_at": _iso(facts.mitigated_at),
        "resolved_at": _iso(facts.resolved_at),
        "duration": span_text(total),
        "duration_seconds": int(total.total_seconds()) if total is not None and total >= timedelta(0) else None,
        "services": list(facts.services),
        "responders": {str(role): [str(n) for n in names] for role, names in facts.responders.items()},
        "follow_ups": [
            {"text": f.text, "owner": f.owner, "type": f.type, "link": f.link, "done": bool(f.done)}
            for f in facts.follow_ups
        ],
    }


def _environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        autoescape=False,  # Markdown, not HTML; untrusted text goes through the inline/cell/block filters
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(utc=_utc, inline=_inline, cell=_cell, block=_block, url=_url, role_title=_role_title)
    return env


def render_markdown(
    facts: PostmortemFacts,
    narrative: Mapping[str, str] | None = None,
    *,
    template: str | Path | None = None,
) -> str:
    """Render the postmortem draft. `narrative` maps section names to generated prose; `template` overrides the file.

    Raises ValueError for unknown narrative sections. The output is deterministic for the same inputs (no
    "generated at" stamp), so re-publishing unchanged facts makes no new commit.
    """
    drafts = normalise_narrative(narrative)
    template_path = Path(template) if template else DEFAULT_TEMPLATE
    env = _environment(jinja2.FileSystemLoader(str(template_path.parent)))
    tmpl = env.get_template(template_path.name)
    sections = {s.key: {"title": s.title, "hint": s.hint, "prompt": s.prompt, "draft": drafts.get(s.key)} for s in SECTIONS}
    durations = {
        "total": span_text(_span(facts.started_at, facts.resolved_at or facts.mitigated_at)),
        "to_detect": span_text(_span(facts.started_at, facts.detected_at)),
        "to_mitigate": span_text(_span(facts.started_at, facts.mitigated_at)),
        "to_resolve": span_text(_span(facts.started_at, facts.resolved_at)),
    }
    text = tmpl.render(
        front_matter=yaml.safe_dump(front_matter(facts), sort_keys=False, allow_unicode=True, width=10_000),
        facts=facts,
        incident_id=facts.incident_id,
        timeline=facts.sorted_timeline(),
        sections=sections,
        durations=durations,
    )
    # Collapse the blank-line runs conditional blocks leave behind; keep exactly one trailing newline.
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.rstrip("\n") + "\n"


def split_front_matter(markdown: str) -> tuple[dict[str, Any], str]:
    """Parse a document's YAML front matter; returns ({}, markdown) when there is none."""
    match = re.match(r"\A(?:\ufeff)?---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", markdown, re.S)
    if not match:
        return {}, markdown
    data = yaml.safe_load(match.group(1) or "") or {}
    if not isinstance(data, dict):
        raise ValueError("front matter is not a YAML mapping")
    return data, markdown[match.end():]
