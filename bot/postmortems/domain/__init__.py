"""The postmortem rules: facts, rendering, the blameless linter (plain Python: no Slack, no database)."""

from bot.postmortems.domain.facts import (
    FollowUp,
    PostmortemFacts,
    TimelineEntry,
    load_facts,
    set_facts_loader,
)
from bot.postmortems.domain.linter import Finding, RulesError, RuleSet, lint, load_rules
from bot.postmortems.domain.render import document_path, render_markdown, slug

__all__ = [
    "FollowUp",
    "Finding",
    "PostmortemFacts",
    "RuleSet",
    "RulesError",
    "TimelineEntry",
    "document_path",
    "lint",
    "load_facts",
    "load_rules",
    "render_markdown",
    "set_facts_loader",
    "slug",
]
