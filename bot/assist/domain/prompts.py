"""Rendering the prompt templates in `prompts/llm/` (Jinja2 data files, not Python strings).

Untrusted text is only ever rendered through the `untrusted` filter, which escapes anything that could open or close
an `<untrusted>` block, so alert text cannot end its block early and pose as instructions.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import yaml

PROMPT_DIR = Path(__file__).resolve().parents[3] / "prompts" / "llm"

_DELIMITER = re.compile(r"<(\s*/?\s*untrusted)", re.IGNORECASE)


def escape_untrusted(text: Any) -> str:
    """Neutralise block delimiters inside untrusted text (`</untrusted>` → `&lt;/untrusted>`)."""
    return _DELIMITER.sub(r"&lt;\1", "" if text is None else str(text))


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PROMPT_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are not HTML; escaping of untrusted blocks is explicit via the filter
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["untrusted"] = escape_untrusted
    return env


@lru_cache(maxsize=1)
def shapes() -> dict[str, Any]:
    return yaml.safe_load((PROMPT_DIR / "shapes.yaml").read_text(encoding="utf-8"))


def render(name: str, **context: Any) -> str:
    """Render `prompts/llm/<name>` with the given context."""
    return _env().get_template(name).render(**context).strip() + "\n"


def system_prompt(task: str) -> str:
    """System message for `task` ("triage" or "rca")."""
    s = shapes()
    return render("system.j2", task=s["tasks"][task], shape=s[task].strip())


def repair_prompt(problem: str) -> str:
    return render("repair.j2", problem=problem)
