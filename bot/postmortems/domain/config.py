"""`postmortems:` section of firewatch.yaml.

Example::

    postmortems:
      repo: git@github.com:acme/postmortems.git     # any git URL or a local path
      branch: main                                  # base branch postmortem branches start from
      path: "postmortems/{year}/{number:04d}-{slug}.md"
      mode: push                                    # or pull-request (also opens a GitHub PR)
      github: {repo: acme/postmortems, token_env: GITHUB_TOKEN}
      auto_draft: false
      block_on_lint: false
      extra_rules: blameless_rules.local.yaml       # merged over prompts/postmortem/blameless_rules.yaml
      author: "Firewatch <firewatch@localhost>"

Every validator raises ValueError with a full sentence: `bot.config` turns it into a `key.path: message` line.
"""

from __future__ import annotations

import re
import string
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Placeholders `path` may use; values come from the incident's facts (see bot.postmortems.domain.render.document_path).
PATH_FIELDS = ("year", "month", "day", "number", "slug", "prefix")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_AUTHOR = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>\s*$")


def _sample_path_values() -> dict[str, object]:
    return {
        "year": 2024,
        "month": 1,
        "day": 2,
        "number": 42,
        "slug": "checkout-api-returning-500s",
        "prefix": "inc",
    }


class GitHubConfig(BaseModel):
    """GitHub REST API settings for `mode: pull-request`."""

    model_config = ConfigDict(extra="forbid")
    repo: str | None = None  # owner/name the pull request is opened in
    token_env: str = "GITHUB_TOKEN"  # name of the environment variable holding the token (never the token itself)
    api_url: str = "https://api.github.com"  # GitHub Enterprise: https://HOST/api/v3
    draft: bool = False  # open pull requests as drafts

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str | None) -> str | None:
        if value is not None and not _GITHUB_REPO.match(value):
            raise ValueError(f"{value!r} is not a GitHub repository: use owner/name, like acme/postmortems")
        return value

    @field_validator("token_env")
    @classmethod
    def _token_env(cls, value: str) -> str:
        if not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name (put the token in the environment, not here)")
        return value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @property
    def owner(self) -> str:
        return (self.repo or "/").split("/", 1)[0]

    @property
    def name(self) -> str:
        return (self.repo or "/").split("/", 1)[1]


class PostmortemsConfig(BaseModel):
    """Where and how postmortem documents are published, and how they are linted."""

    model_config = ConfigDict(extra="forbid")
    repo: str | None = None  # git URL or local path; None = publishing disabled
    branch: str = "main"
    path: str = "postmortems/{year}/{number:04d}-{slug}.md"
    mode: Literal["push", "pull-request"] = "push"
    github: GitHubConfig = Field(default_factory=GitHubConfig)
    auto_draft: bool = False  # draft a postmortem automatically when an incident is resolved (wired by the app)
    block_on_lint: bool = False  # refuse to publish a document with blameless-linter findings
    # Private incidents (security, HR-sensitive) are drafted but not pushed to the shared docs repository unless
    # this is set: a private channel's story should not become public by default.
    publish_private: bool = False
    extra_rules: str | None = None  # extra rules file merged over the built-in blameless rules
    template: str | None = None  # custom Jinja2 template instead of prompts/postmortem/postmortem.md.j2
    author: str = "Firewatch <firewatch@localhost>"  # git author and committer of published commits
    workdir: str | None = None  # cached clone of `repo` reused between publishes; None = a fresh clone each time

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not value or value.startswith(("-", "/")) or ".." in value or re.search(r"[\s~^:?*\[\\]", value):
            raise ValueError(f"{value!r} is not a valid git branch name")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid path pattern: {exc}") from None
        unknown = sorted(f for f in fields if f not in PATH_FIELDS)
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {', '.join('{' + f + '}' for f in unknown)} in path; "
                f"use {', '.join('{' + f + '}' for f in PATH_FIELDS)}"
            )
        try:
            sample = value.format(**_sample_path_values())
        except (ValueError, IndexError, KeyError) as exc:
            raise ValueError(f"{value!r} is not a valid path pattern: {exc}") from None
        parts = sample.replace("\\", "/").split("/")
        if sample.startswith("/") or any(p in ("..", ".git") for p in parts) or not sample.strip("/"):
            raise ValueError(f"path {value!r} must be relative to the repository root and not contain '..' or '.git'")
        if sample.endswith("/"):
            raise ValueError(f"path {value!r} must name a file, not a directory")
        return value

    @field_validator("author")
    @classmethod
    def _author(cls, value: str) -> str:
        if not _AUTHOR.match(value):
            raise ValueError(f"{value!r} is not a git identity: use 'Name <email>'")
        return value

    @model_validator(mode="after")
    def _github_needed(self) -> "PostmortemsConfig":
        if self.mode == "pull-request" and not self.github.repo:
            raise ValueError("mode pull-request needs github.repo (owner/name) to open the pull request in")
        return self

    @property
    def author_name(self) -> str:
        match = _AUTHOR.match(self.author)
        assert match is not None  # validated above
        return match.group("name")

    @property
    def author_email(self) -> str:
        match = _AUTHOR.match(self.author)
        assert match is not None
        return match.group("email")
