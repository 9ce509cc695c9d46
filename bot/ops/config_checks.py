"""`firewatch config check`'s checks beyond the schema: the environment the file relies on, and YAML traps.

Warnings, not errors: each names what is wrong and what to do, and Firewatch still starts (degraded).
"""

from __future__ import annotations

import re
from typing import Mapping

from bot.config import FirewatchConfig

ENV_LLM_MODEL = "FIREWATCH_LLM_MODEL"
# `key: #name` (no quotes): YAML reads everything from ` #` on as a comment, so the key is empty.
_UNQUOTED_HASH = re.compile(r"^\s*(?:-\s+)?(?P<key>[A-Za-z_][\w-]*)\s*:\s+(?P<value>#\S*)\s*(?:#.*)?$")


def environment_warnings(cfg: FirewatchConfig, raw_text: str, environ: Mapping[str, str]) -> list[str]:
    """Every warning about `cfg` (read from `raw_text`) run in `environ`, in file order then environment."""
    warnings = unquoted_channel_warnings(raw_text)
    if is_empty_yaml(raw_text):
        warnings.append("the file is empty: Firewatch runs with defaults (no rotations, escalation policies or "
                        "alert routes); see firewatch.example.yaml")
    llm = cfg.llm
    model = llm.model or environ.get(ENV_LLM_MODEL)
    if llm.enabled and model and not environ.get(llm.api_key_env):
        warnings.append(f"llm: model {model} is configured but {llm.api_key_env} is not set; triage falls back "
                        f"to heuristics (set {llm.api_key_env}, or `enabled: false`)")
    token_env = cfg.webhooks.token_env
    if cfg.alert_routes and not environ.get(token_env):
        warnings.append(f"alert_routes: {len(cfg.alert_routes)} route(s) but {token_env} is not set; every "
                        f"alert webhook is refused until it is")
    return warnings


def unquoted_channel_warnings(raw_text: str) -> list[str]:
    """Channel keys whose unquoted `#channel` value YAML reads as a comment (the key ends up empty)."""
    warnings = []
    for number, line in enumerate(raw_text.splitlines(), start=1):
        match = _UNQUOTED_HASH.match(line)
        if not match:
            continue
        key, value = match["key"], match["value"]
        if "channel" in key or re.fullmatch(r"#[a-z0-9][a-z0-9_-]*", value):
            warnings.append(f"line {number}: {key} is empty because YAML reads `{value}` as a comment; "
                            f"quote it: {key}: \"{value}\"")
    return warnings


def is_empty_yaml(raw_text: str) -> bool:
    """Nothing but blank lines, comments, `{}` or `---`."""
    content = [l.split("#", 1)[0].strip() for l in raw_text.splitlines()]
    return all(c in ("", "{}", "---", "...") for c in content)
