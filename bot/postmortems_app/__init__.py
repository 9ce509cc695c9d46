"""Blameless postmortems in the running app: facts from the database, drafts stored in `PostmortemRecord`,
`/incident postmortem [publish]`, auto-drafting on resolve, and the database side of `firewatch postmortem`.

The pure parts (rendering, the blameless linter, publishing to git) live in `bot.postmortems`; this package only
connects them to the database and Slack. The names below are imported lazily, so importing a submodule (the CLI
backend) stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DraftOutcome", "Published", "draft", "draft_and_publish", "publish_incident"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bot.postmortems_app import service

        return getattr(service, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
