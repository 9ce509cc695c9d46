"""Postmortem Slack texts point at Slack commands, never at a shell command people in the channel cannot run."""

from __future__ import annotations

import re

from bot.postmortems import messages
from bot.postmortems.domain.linter import Finding

SHELL = re.compile(r"`firewatch |From a shell")


def _finding(n: int) -> Finding:
    return Finding(line=n, column=1, end_line=n, end_column=5, rule="blame", phrase="Bob broke", message="m",
                   suggestion="Describe the system.")


def test_slack_texts_name_no_shell_command():
    many = [_finding(n) for n in range(1, 9)]
    texts = [
        messages.USAGE,
        messages.draft_text("INC-1", number=1, updated=False, timeline_count=3, action_items=1, findings=many,
                            repo_configured=True, user="U0ALICE", auto=False),
        messages.draft_text("INC-1", number=1, updated=True, timeline_count=3, action_items=0, findings=[],
                            repo_configured=False, user=None, auto=True),
        messages.findings_text(many),
        messages.publish_failed_text("INC-1", "boom"),
        messages.publish_failed_text("INC-1", "", not_configured=True),
    ]
    for text in texts:
        assert not SHELL.search(text), text
    assert "Run `/incident postmortem publish` to publish it." in texts[1]
    assert "…and 3 more" in texts[3] and "`/incident postmortem`" in texts[3]
