"""Blameless postmortems: draft from incident facts, lint for blaming language, publish to git.

Plain Python: no Slack and no database imports. The app supplies facts (`set_facts_loader`) and wires the
`postmortem` click group into the `firewatch` CLI.
"""

from bot.postmortems.facts import (
    FollowUp,
    PostmortemFacts,
    TimelineEntry,
    load_facts,
    set_facts_loader,
)
from bot.postmortems.linter import Finding, RulesError, RuleSet, lint, load_rules
from bot.postmortems.publishing import LintBlocked, PublishError, PublishResult, publish
from bot.postmortems.render import document_path, render_markdown, slug

__all__ = [
    "FollowUp",
    "Finding",
    "LintBlocked",
    "PostmortemFacts",
    "PublishError",
    "PublishResult",
    "RuleSet",
    "RulesError",
    "TimelineEntry",
    "document_path",
    "lint",
    "load_facts",
    "load_rules",
    "publish",
    "render_markdown",
    "set_facts_loader",
    "slug",
]
