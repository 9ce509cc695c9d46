"""Blameless-language linter for postmortem Markdown.

`lint(text)` returns one `Finding` per flagged phrase. Rules are data (`prompts/postmortem/blameless_rules.yaml`);
teams extend or override them with an extra rules file (`load_rules(extra=...)`, same format, merged by rule id).

Positions: `line` and `end_line` are 1-based; `column` and `end_column` are 1-based and inclusive, counted in
characters (code points), so for a one-line finding `lines[line - 1][column - 1:end_column] == phrase`.

Before matching, the parts of the document that are not the authors' own prose are blanked out (replaced by spaces,
keeping newlines so positions stay exact): YAML front matter, fenced code blocks, inline code, HTML comments,
blockquote lines (`> ...`) and text in double quotes ("...", “...”, „...“, «...»). Quotes and code spans are matched
within one line only, so a stray quote mark cannot hide the rest of a paragraph.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.postmortems.domain.render import PROMPTS_DIR

DEFAULT_RULES_PATH = PROMPTS_DIR / "blameless_rules.yaml"
_RULE_KEYS = {"id", "category", "patterns", "pattern", "case_sensitive", "message", "suggestion", "replace", "enabled"}
_PATTERN_KEYS = {"pattern", "replace"}


class RulesError(ValueError):
    """A rules file is unreadable or invalid."""


@dataclass(frozen=True)
class Finding:
    """One flagged phrase. Columns are 1-based and inclusive (see the module docstring)."""

    line: int
    column: int
    end_line: int
    end_column: int
    rule: str
    phrase: str
    message: str
    suggestion: str
    rewrite: str | None = None  # mechanical rewrite of `phrase` when the rule has one; "" means "delete the phrase"
    category: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self, filename: str = "-") -> str:
        """`FILE:LINE:COL: RULE phrase — suggestion` (one line)."""
        phrase = " ".join(self.phrase.split())
        hint = self.suggestion
        if self.rewrite is not None:
            hint += f' Try: "{self.rewrite}".' if self.rewrite else f' Try: remove "{phrase}".'
        return f"{filename}:{self.line}:{self.column}: {self.rule} {phrase} — {hint}"


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    replace: str | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    patterns: tuple[Pattern, ...]
    message: str
    suggestion: str


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules plus the words the name rules never treat as a person."""

    rules: tuple[Rule, ...]
    not_names: frozenset[str] = field(default_factory=frozenset)  # casefolded

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


# --------------------------------------------------------------------------------------------------- rule loading


def _read_rules_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: cannot read rules file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RulesError(f"{path}: rules file is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: invalid YAML: {exc}") from None
    if data is None:
        return {"rules": [], "not_names": []}
    if not isinstance(data, dict):
        raise RulesError(f"{path}: a rules file must be a mapping with `rules:` (and optionally `not_names:`)")
    unknown = sorted(set(data) - {"rules", "not_names"})
    if unknown:
        raise RulesError(f"{path}: unknown top-level key(s) {', '.join(unknown)}; use rules and not_names")
    rules = data.get("rules")
    names = data.get("not_names")
    rules = [] if rules is None else rules
    names = [] if names is None else names
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise RulesError(f"{path}: `rules` must be a list of mappings")
    if not isinstance(names, list):
        raise RulesError(f"{path}: `not_names` must be a list of words")
    for name in names:
        if not isinstance(name, str):
            # YAML 1.1 reads bare No/On/Yes/Off as booleans: say so, it is the usual cause.
            raise RulesError(f"{path}: `not_names` entry {name!r} is not a word; quote it (e.g. \"No\", \"On\")")
    return {"rules": rules, "not_names": names}


def _compile_rule(raw: dict[str, Any], source: str) -> Rule | None:
    rule_id = raw["id"]
    where = f"{source}: rule {rule_id!r}"
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(unknown)}")
    if raw.get("enabled", True) is False:
        return None
    items = raw.get("patterns")
    if items is None and "pattern" in raw:
        items = [raw["pattern"]]
    if isinstance(items, (str, dict)):
        items = [items]
    if not items:
        raise RulesError(f"{where}: needs at least one pattern")
    flags = 0 if raw.get("case_sensitive", False) else re.IGNORECASE
    default_replace = raw.get("replace")
    compiled: list[Pattern] = []
    for item in items:
        if isinstance(item, str):
            text, replace = item, default_replace
        elif isinstance(item, dict) and isinstance(item.get("pattern"), str) and not set(item) - _PATTERN_KEYS:
            text, replace = item["pattern"], item.get("replace", default_replace)
        else:
            raise RulesError(f"{where}: each pattern is a string or a mapping with `pattern` (and `replace`)")
        try:
            regex = re.compile(text, flags)
        except re.error as exc:
            raise RulesError(f"{where}: invalid pattern {text!r}: {exc}") from None
        if replace is not None and not isinstance(replace, str):
            raise RulesError(f"{where}: `replace` must be a string")
        compiled.append(Pattern(regex, replace))
    for key in ("message", "suggestion"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RulesError(f"{where}: needs a `{key}`")
    return Rule(
        id=rule_id,
        category=str(raw.get("category", "")),
        patterns=tuple(compiled),
        message=raw["message"].strip(),
        suggestion=raw["suggestion"].strip(),
    )


def load_rules(extra: str | Path | Iterable[str | Path] | None = None, *, base: str | Path | None = None) -> RuleSet:
    """Load the built-in rules (or `base`) and merge each extra rules file over them.

    Merging is by rule id: an extra rule with a known id updates that rule's fields (so `{id: x, enabled: false}`
    switches it off, and a new `patterns` list replaces the old one); a new id adds a rule. `not_names` are united.
    Raises RulesError naming the file and rule for any problem.
    """
    if extra is None:
        extras: list[Path] = []
    elif isinstance(extra, (str, Path)):
        extras = [Path(extra)]
    else:
        extras = [Path(p) for p in extra]
    merged: dict[str, dict[str, Any]] = {}
    sources: dict[str, str] = {}
    names: set[str] = set()
    for path in [Path(base) if base else DEFAULT_RULES_PATH, *extras]:
        data = _read_rules_file(path)
        names.update(n.casefold() for n in data["not_names"])
        for i, raw in enumerate(data["rules"]):
            rule_id = raw.get("id")
            if not isinstance(rule_id, str) or not rule_id.strip():
                raise RulesError(f"{path}: rules[{i}] needs an `id`")
            if rule_id in merged:
                update = dict(raw)
                # A rule redefining its patterns replaces both spellings of the key.
                if "patterns" in update or "pattern" in update:
                    merged[rule_id].pop("patterns", None)
                    merged[rule_id].pop("pattern", None)
                merged[rule_id].update(update)
            else:
                merged[rule_id] = dict(raw)
            sources[rule_id] = str(path)
    rules = [r for r in (_compile_rule(raw, sources[rid]) for rid, raw in merged.items()) if r is not None]
    return RuleSet(tuple(rules), frozenset(names))


@functools.lru_cache(maxsize=8)
def _cached_rules(extras: tuple[str, ...], stamps: tuple[float, ...]) -> RuleSet:
    return load_rules(list(extras))


def default_rules(extra: str | Path | Sequence[str | Path] | None = None) -> RuleSet:
    """`load_rules`, cached until one of the files changes (lint runs on every render and publish)."""
    extras = [] if extra is None else [extra] if isinstance(extra, (str, Path)) else list(extra)
    paths = [DEFAULT_RULES_PATH, *(Path(p) for p in extras)]
    try:
        stamps = tuple(p.stat().st_mtime for p in paths)
    except OSError:
        return load_rules(extras)  # let load_rules report the unreadable file
    return _cached_rules(tuple(str(p) for p in extras), stamps)


# ------------------------------------------------------------------------------------------------------- masking

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BLOCKQUOTE = re.compile(r"^\s*(?:(?:[-*+]|\d{1,9}[.)])\s+)*>")
_QUOTE_PAIRS = {'"': '"', "“": "”", "„": "“”", "«": "»"}
_INLINE_START = re.compile(r"<!--|`+|[\"“„«]")


def mask_non_prose(text: str) -> str:
    """Return `text` with everything the linter must skip replaced by spaces (same length, newlines kept)."""
    out = list(text)

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if out[i] != "\n":
                out[i] = " "

    lines = text.splitlines(keepends=True)
    offsets: list[int] = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)

    first = 0
    # YAML front matter: only at the very top, and only when it is closed (an unclosed `---` is a thematic break).
    if lines and lines[0].lstrip("\ufeff").rstrip() == "---":
        for j in range(1, len(lines)):
            if lines[j].rstrip() in ("---", "..."):
                blank(0, offsets[j] + len(lines[j]))
                first = j + 1
                break

    fence: tuple[str, int] | None = None
    in_comment = False
    for idx in range(first, len(lines)):
        line, start = lines[idx], offsets[idx]
        body = line.rstrip("\r\n")
        if fence is not None:
            blank(start, start + len(body))
            stripped = body.strip()
            char, size = fence
            if len(body) - len(body.lstrip(" ")) <= 3 and stripped and set(stripped) == {char} and len(stripped) >= size:
                fence = None
            continue
        col = 0
        if in_comment:
            close = body.find("-->")
            if close < 0:
                blank(start, start + len(body))
                continue
            blank(start, start + close + 3)
            in_comment = False
            col = close + 3
        elif (m := _FENCE_OPEN.match(body)) and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            fence = (m.group(1)[0], len(m.group(1)))
            blank(start, start + len(body))
            continue
        elif _BLOCKQUOTE.match(body):
            blank(start, start + len(body))
            continue
        in_comment = _mask_inline(body, col, start, blank)
    return "".join(out)


def _mask_inline(body: str, col: int, start: int, blank: Any) -> bool:
    """Blank inline code, comments and quotations in one line; True if an HTML comment stays open at the end."""
    while (m := _INLINE_START.search(body, col)) is not None:
        token = m.group(0)
        if token == "<!--":
            close = body.find("-->", m.end())
            if close < 0:
                blank(start + m.start(), start + len(body))
                return True
            blank(start + m.start(), start + close + 3)
            col = close + 3
        elif token.startswith("`"):
            # A code span closes at the next backtick run of exactly the same length (CommonMark).
            closer = re.compile(rf"(?<!`){re.escape(token)}(?!`)")
            close_m = closer.search(body, m.end())
            if close_m is None:
                col = m.end()
                continue
            blank(start + m.start(), start + close_m.end())
            col = close_m.end()
        else:
            closers = _QUOTE_PAIRS[token]
            ends = [i for i in (body.find(c, m.end()) for c in closers) if i >= 0]
            if not ends:
                col = m.end()
                continue
            end = min(ends) + 1
            blank(start + m.start(), start + end)
            col = end
    return False


# ------------------------------------------------------------------------------------------------------- linting


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def _position(starts: list[int], offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo + 1, offset - starts[lo] + 1


def _match_case(phrase: str, rewrite: str) -> str:
    # "Should have been" -> "Was not", so the rewrite can be pasted at the start of a sentence.
    if rewrite and phrase[:1].isupper() and rewrite[:1].islower():
        return rewrite[:1].upper() + rewrite[1:]
    return rewrite


_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)|^ {0,3}(?:=+|-+)[ \t]*$")


def _crosses_block(masked: str, start: int, end: int) -> bool:
    """True if a match runs from one Markdown block into another: across a blank line, or into or out of a
    heading ("## Timeline\nBob broke it" is a heading and a sentence, not the phrase "Timeline Bob broke")."""
    if "\n" not in masked[start:end]:
        return False
    first = masked.rfind("\n", 0, start) + 1
    last = masked.find("\n", end)
    lines = masked[first: len(masked) if last < 0 else last].split("\n")
    return any(not line.strip() or _HEADING.match(line) for line in lines)


def _rule_matches(rule: Rule, masked: str, not_names: frozenset[str]) -> list[tuple[int, int, re.Match[str], Pattern]]:
    found: list[tuple[int, int, re.Match[str], Pattern]] = []
    for pattern in rule.patterns:
        pos = 0
        while pos <= len(masked) and (m := pattern.regex.search(masked, pos)) is not None:
            if m.end() == m.start():
                pos = m.end() + 1
                continue
            if _crosses_block(masked, m.start(), m.end()):
                pos = m.start() + 1  # the same words may still match within one block, a little later
                continue
            name = m.groupdict().get("name")
            if name is not None and name.casefold() in not_names:
                # Not a person: look again from the next character so "Then Bob broke it" still finds "Bob".
                pos = m.start() + 1
                continue
            found.append((m.start(), m.end(), m, pattern))
            pos = m.end()
    # Several patterns of one rule may cover the same words ("should have been" / "should have"): keep the
    # earliest, longest match and drop the ones overlapping it.
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    kept: list[tuple[int, int, re.Match[str], Pattern]] = []
    for item in found:
        if not kept or item[0] >= kept[-1][1]:
            kept.append(item)
    return kept


def lint(
    text: str,
    rules: RuleSet | None = None,
    *,
    extra_rules: str | Path | Sequence[str | Path] | None = None,
) -> list[Finding]:
    """Blameless-language findings in Markdown `text`, ordered by position.

    `rules` defaults to the built-in rules merged with `extra_rules` (a path or paths). Skipped regions are
    described in the module docstring.
    """
    ruleset = rules if rules is not None else default_rules(extra_rules)
    text = text.replace("\r\n", "\n")
    masked = mask_non_prose(text)
    starts = _line_starts(text)
    findings: list[Finding] = []
    for rule in ruleset.rules:
        for begin, end, match, pattern in _rule_matches(rule, masked, ruleset.not_names):
            phrase = text[begin:end]
            line, column = _position(starts, begin)
            end_line, end_column = _position(starts, end - 1)
            rewrite = _match_case(phrase, match.expand(pattern.replace)) if pattern.replace is not None else None
            findings.append(
                Finding(
                    line=line,
                    column=column,
                    end_line=end_line,
                    end_column=end_column,
                    rule=rule.id,
                    phrase=phrase,
                    message=rule.message,
                    suggestion=rule.suggestion,
                    rewrite=rewrite,
                    category=rule.category,
                )
            )
    findings.sort(key=lambda f: (f.line, f.column, f.rule))
    return findings
