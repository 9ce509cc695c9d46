"""Rendering: front matter, sections, timeline, narrative vs prompts, slug and document path."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from bot.postmortems.domain.config import PostmortemsConfig
from bot.postmortems.domain.facts import FollowUp, TimelineEntry
from bot.postmortems.domain.linter import lint
from bot.postmortems.domain.render import (
    DRAFT_MARKER,
    SECTIONS,
    document_path,
    render_markdown,
    slug,
    span_text,
    split_front_matter,
)
from tests.postmortems.conftest import T0, TITLE, make_facts

HEADINGS = [
    "Summary",
    "Impact",
    "Detection",
    "Response",
    "Timeline",
    "Contributing factors",
    "What went well",
    "What went poorly",
    "Where we got lucky",
    "Action items",
    "Supporting information",
]


def test_front_matter_fields(facts):
    meta, _ = split_front_matter(render_markdown(facts))
    assert meta["incident"] == 42
    assert meta["id"] == "INC-42"
    assert meta["title"] == TITLE
    assert meta["severity"] == "sev2"
    assert meta["status"] == "draft"
    assert meta["incident_status"] == "resolved"
    assert meta["started_at"] == "2024-05-01T14:00:00Z"
    assert meta["detected_at"] == "2024-05-01T14:04:00Z"
    assert meta["mitigated_at"] == "2024-05-01T14:40:00Z"
    assert meta["resolved_at"] == "2024-05-01T15:23:00Z"
    assert meta["duration"] == "1h 23m"
    assert meta["duration_seconds"] == 4980
    assert meta["services"] == ["checkout-api", "payments"]
    assert meta["responders"] == {"incident_commander": ["Alice Example"], "scribe": ["Bob"], "communications": []}
    assert meta["follow_ups"][0] == {
        "text": "Roll back automatically when the 5xx rate doubles",
        "owner": "Alice Example",
        "type": "prevent",
        "link": "https://jira.example.com/browse/OPS-1",
        "done": False,
    }
    assert meta["follow_ups"][1]["done"] is True


@pytest.mark.parametrize(
    "title",
    [
        "Checkout: down",
        'He said "it\'s fine": it was not',
        "'single' and \"double\" quotes",
        "🔥🔥 fire: emoji 🚒",
        "# not a comment",
        "- list? {flow: map} [seq] & anchor *alias !tag %directive @at `tick`",
        "multi\nline\ttitle",
        "yes",
        "null",
        "2024-05-01",
        "0042",
        "line\u2028separator and \x85 next line",
        "---",
    ],
)
def test_front_matter_round_trips_awkward_titles(title):
    text = render_markdown(make_facts(title=title))
    assert text.startswith("---\n")
    meta, body = split_front_matter(text)
    assert meta["title"] == title
    assert meta["status"] == "draft"
    # The title never escapes the front matter: the body starts after the closing fence.
    assert body.lstrip().startswith("# INC-42: ")


def test_times_are_utc_iso_even_for_naive_and_other_zones():
    tz = timezone(timedelta(hours=-7))
    text = render_markdown(
        make_facts(started_at=datetime(2024, 5, 1, 7, 0, tzinfo=tz), detected_at=datetime(2024, 5, 1, 14, 5))
    )
    meta, _ = split_front_matter(text)
    assert meta["started_at"] == "2024-05-01T14:00:00Z"
    assert meta["detected_at"] == "2024-05-01T14:05:00Z"  # naive values are taken as UTC


def test_all_section_headings_present_in_order(facts):
    text = render_markdown(facts)
    found = re.findall(r"^## (.+)$", text, re.M)
    assert found == HEADINGS
    assert re.search(r"^# INC-42: Checkout API: returning 500s", text, re.M)


def test_without_narrative_sections_are_prompts(facts):
    text = render_markdown(facts)
    assert DRAFT_MARKER not in text
    for section in SECTIONS:
        assert f"<!-- {section.hint} -->" in text
        assert f"_{section.prompt}_" in text


def test_narrative_is_marked_as_draft_and_replaces_prompt(facts):
    narrative = {
        "summary": "A deploy raised checkout 5xx errors for 40 minutes.",
        "What went well": "The rollback took three minutes.",
        "contributing-factors": "The canary stage was skipped for hotfixes.\n\nA second paragraph.",
    }
    text = render_markdown(facts, narrative)
    sections = dict(re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    assert DRAFT_MARKER in sections["Summary"]
    assert "A deploy raised checkout 5xx errors" in sections["Summary"]
    assert "Summarise what happened" not in sections["Summary"]
    # The human-recorded summary (a fact) is still shown.
    assert "Checkout requests failed for 40 minutes after a deploy." in sections["Summary"]
    assert DRAFT_MARKER in sections["What went well"] and "three minutes" in sections["What went well"]
    assert "A second paragraph." in sections["Contributing factors"]
    # Sections without narrative keep their prompts.
    assert DRAFT_MARKER not in sections["What went poorly"]
    assert "<!-- Describe friction" in sections["What went poorly"]
    assert text.count(DRAFT_MARKER) == 3


@pytest.mark.parametrize("key", ["timeline", "Action items", "root cause"])
def test_narrative_rejects_fact_and_unknown_sections(facts, key):
    with pytest.raises(ValueError):
        render_markdown(facts, {key: "text"})


def test_narrative_cannot_hide_text_in_comments(facts):
    text = render_markdown(facts, {"impact": "visible <!-- hidden should have --> text"})
    assert "<!-- hidden" not in text
    assert any(f.rule == "counterfactual-should-have" for f in lint(text))


def test_timeline_chronological_with_permalinks(facts):
    text = render_markdown(facts)
    timeline = text.split("## Timeline", 1)[1].split("## ", 1)[0]
    entries = [line for line in timeline.splitlines() if line.startswith("- **")]
    assert [e.split("**")[1] for e in entries] == [
        "2024-05-01 14:00:00 UTC",
        "2024-05-01 14:04:00 UTC",
        "2024-05-01 14:12:00 UTC",
        "2024-05-01 14:40:00 UTC",
    ]
    assert "Alert: checkout 5xx rate above 5%" in entries[0]
    for entry in entries:
        assert re.search(r"\(\[Slack\]\(https://acme\.slack\.com/archives/C0[A-Z0-9]+/p\d+\)\)$", entry)
    assert "(Alice Example)" in entries[1]


def test_timeline_multiline_text_stays_one_entry():
    facts = make_facts(timeline=[TimelineEntry(T0, "first line\nsecond line", "Bob", None)])
    text = render_markdown(facts)
    assert "- **2024-05-01 14:00:00 UTC** — first line second line (Bob)\n" in text


def test_empty_timeline_and_follow_ups_get_prompts():
    text = render_markdown(make_facts(timeline=[], follow_ups=[], responders={}, metrics={}, summary=None))
    assert "_No timeline events were recorded._" in text
    assert "Add action items with an owner" in text
    assert lint(text) == []


def test_action_items_table_escapes_pipes(facts):
    text = render_markdown(facts)
    items = text.split("## Action items", 1)[1].split("## ", 1)[0]
    assert "| Action | Owner | Type | Link | Done |" in items
    assert (
        "| Roll back automatically when the 5xx rate doubles | Alice Example | prevent | "
        "[link](https://jira.example.com/browse/OPS-1) | no |" in items
    )
    assert "| Add a checkout canary \\| stage 1 | unassigned | mitigate |  | yes |" in items


def test_facts_metrics_and_responders_rendered(facts):
    text = render_markdown(facts)
    assert "- **orders_failed**: 311" in text
    assert "- **Incident commander**: Alice Example" in text
    assert "- **Communications**: none" in text
    assert "Detected 2024-05-01 14:04:00 UTC, 4m after the start." in text


def test_fresh_draft_lints_clean(facts):
    assert lint(render_markdown(facts)) == []


def test_render_is_deterministic(facts):
    assert render_markdown(facts) == render_markdown(make_facts())


def test_custom_template(tmp_path, facts):
    template = tmp_path / "mine.md.j2"
    template.write_text("---\n{{ front_matter }}---\n{{ incident_id }} {{ facts.title | inline }}\n", encoding="utf-8")
    text = render_markdown(facts, template=template)
    meta, body = split_front_matter(text)
    assert meta["id"] == "INC-42"
    assert body.strip() == f"INC-42 {TITLE}"


def test_follow_up_type_validated():
    assert FollowUp("x", type="Prevent").type == "prevent"
    with pytest.raises(ValueError):
        FollowUp("x", type="blame")


@pytest.mark.parametrize(
    "title, expected",
    [
        (TITLE, "checkout-api-returning-500s-payments-2"),
        ("Café déjà vu: Zoë's DB", "cafe-deja-vu-zoes-db"),
        ("🔥🔥🔥", "incident"),
        ("  --Hello,   World!--  ", "hello-world"),
        ("a" * 80, "a" * 60),
        ("word " * 20, "-".join(["word"] * 12)),
    ],
)
def test_slug(title, expected):
    assert slug(title) == expected
    assert len(slug(title)) <= 60


def test_document_path_default_and_custom(facts):
    assert document_path(PostmortemsConfig(), facts) == "postmortems/2024/0042-checkout-api-returning-500s-payments-2.md"
    custom = PostmortemsConfig(path="pm/{prefix}/{year}-{month:02d}-{day:02d}-{number}.md")
    assert document_path(custom, facts) == "pm/inc/2024-05-01-42.md"


def test_document_path_needs_a_time():
    facts = make_facts(started_at=None, detected_at=None, mitigated_at=None, resolved_at=None)
    with pytest.raises(ValueError, match="start time"):
        document_path(PostmortemsConfig(), facts)


def test_span_text():
    assert span_text(timedelta(seconds=45)) == "45s"
    assert span_text(timedelta(minutes=5)) == "5m"
    assert span_text(timedelta(hours=1, minutes=23)) == "1h 23m"
    assert span_text(timedelta(days=2, hours=4)) == "2d 4h"
    assert span_text(None) is None
    assert span_text(timedelta(seconds=-1)) is None


def test_unresolved_incident_has_no_duration():
    text = render_markdown(make_facts(mitigated_at=None, resolved_at=None, status="investigating"))
    meta, _ = split_front_matter(text)
    assert meta["duration"] is None and meta["resolved_at"] is None
    assert yaml.safe_load(yaml.safe_dump(meta)) == meta
