"""Slack texts for postmortems. Short (well under Slack's limits), and any text that came from people or files is
escaped so it cannot mention anyone."""

from __future__ import annotations

from collections.abc import Sequence

from bot.postmortems.domain.linter import Finding
from bot.postmortems.publishing import PublishResult
from bot.postmortems.domain.render import SECTIONS
from bot.safety import neutralize_mentions, truncate

MAX_TEXT = 3000  # one section block's worth; chat.postMessage allows more, but nobody reads more in a channel
FINDINGS_SHOWN = 5
# The prose sections a model may draft (Supporting information stays with the authors).
NARRATIVE_SECTION_TITLES = tuple(s.title for s in SECTIONS[:8])

USAGE = (
    "*Postmortems*\n"
    "• `/incident postmortem`: draft (or refresh) the blameless postmortem from the incident record and lint it; "
    "with an LLM configured, the model drafts the narrative sections (marked as draft text, to review)\n"
    "• `/incident postmortem publish`: refresh the facts and publish the draft (the model is not asked again) to the "
    "postmortems repository, where everyone can read it"
)


def _safe(text: str, limit: int = 500) -> str:
    return truncate(neutralize_mentions(" ".join(str(text).split())), limit)


def findings_summary(findings: Sequence[Finding]) -> str:
    n = len(findings)
    if n == 0:
        return "blameless-language linter: no findings"
    return f"blameless-language linter: {n} finding{'s' if n != 1 else ''}"


def findings_text(findings: Sequence[Finding], limit: int = FINDINGS_SHOWN) -> str:
    """The first few findings, one line each: `line N: “phrase” (rule): suggestion`."""
    if not findings:
        return ":white_check_mark: The draft reads blameless: the linter found nothing to rephrase."
    lines = [f":mag: {findings_summary(findings).capitalize()}. First {min(limit, len(findings))}:"]
    for f in list(findings)[:limit]:
        hint = f.suggestion
        if f.rewrite is not None:
            hint += f" Try: “{f.rewrite}”." if f.rewrite else " Try removing it."
        lines.append(f"• line {f.line}: “{_safe(f.phrase, 80)}” ({_safe(f.rule, 40)}): {_safe(hint, 240)}")
    if len(findings) > limit:
        lines.append(f"…and {len(findings) - limit} more (fix these and run `/incident postmortem` again to see the rest).")
    return truncate("\n".join(lines), MAX_TEXT)


def narrative_text(*, narrative_sections: int, llm_configured: bool, narrative_note: str = "") -> str:
    """One sentence on where the narrative sections came from: the model (to review) or prompts for the authors."""
    total = len(NARRATIVE_SECTION_TITLES)
    if narrative_sections > 0:
        text = ":robot_face: Narrative drafted by the model — review before publishing (marked as draft text"
        if narrative_sections < total:
            text += f"; {narrative_sections} of {total} sections, the others hold prompts for the authors"
        return text + ")."
    if llm_configured and narrative_note:
        return (f"The narrative sections hold prompts for the authors (the model did not draft them: "
                f"{_safe(narrative_note, 300)}).")
    return "The narrative sections hold prompts for the authors."


def draft_text(label: str, *, number: int, updated: bool, timeline_count: int, action_items: int,
               findings: Sequence[Finding], repo_configured: bool, user: str | None, auto: bool,
               narrative_sections: int = 0, llm_configured: bool = False, narrative_note: str = "") -> str:
    """In-channel note that the draft exists, what it contains and what to do next."""
    if auto:
        who = " automatically on resolve"
    elif user:
        who = f" by <@{user}>"
    else:
        who = ""
    verb = "updated" if updated else "drafted"
    sections = [s.title for s in SECTIONS]
    section_list = ", ".join(sections[:4] + [f"Timeline ({timeline_count} events)"] + sections[4:8]
                             + [f"Action items ({action_items})"] + sections[8:])
    next_step = ("Run `/incident postmortem publish` to publish it." if repo_configured else
                 "Publishing is not set up: set `postmortems.repo` in firewatch.yaml, then run `/incident postmortem publish`.")
    narrative = narrative_text(narrative_sections=narrative_sections, llm_configured=llm_configured,
                               narrative_note=narrative_note)
    text = (
        f":memo: Blameless postmortem for *{label}* {verb}{who} from the incident record; {findings_summary(findings)}.\n"
        f"Sections: {section_list}. {narrative}\n"
        f"{next_step}"
    )
    return truncate(text, MAX_TEXT)


def document_link(result: PublishResult, github_repo: str | None, web_host: str | None) -> str | None:
    """A web link to the document: the pull request, else the file on GitHub when the repository is known."""
    if result.pr_url:
        return result.pr_url
    if github_repo and web_host:
        return f"https://{web_host}/{github_repo}/blob/{result.branch}/{result.path}"
    return None


def published_text(label: str, result: PublishResult, link: str | None, findings: Sequence[Finding],
                   base: str | None = None) -> str:
    where = f"`{_safe(result.path, 300)}` on branch `{_safe(result.branch, 200)}` (commit `{result.commit_sha[:12]}`)"
    if base and not result.pr_url and base != result.branch:
        # `postmortems.branch` is the base the postmortem branch starts from, not where it is pushed.
        where += f", branched from `{_safe(base, 200)}`; merge it into `{_safe(base, 200)}` to publish it there"
    state = "" if result.pushed else " (no changes since the last publish)"
    text = f":page_facing_up: Postmortem for *{label}* published{state}: {where}"
    if link:
        text += f"\n<{link}|Open the postmortem>"
    if result.pr_url and result.pr_url != link:
        text += f"\nPull request: <{result.pr_url}>"
    text += f"\n{findings_summary(findings).capitalize()}."
    return truncate(text, MAX_TEXT)


def publish_failed_text(label: str, error: str, *, not_configured: bool = False) -> str:
    if not_configured:
        return (f":warning: The postmortem for *{label}* is drafted and saved, but publishing is not configured: set "
                "`postmortems.repo` in firewatch.yaml (a git URL or a local path), then run `/incident postmortem publish`.")
    return truncate(f":x: Publishing the postmortem for *{label}* failed: {_safe(error, 1500)}\n"
                    "The draft is saved in Firewatch's database; fix the problem and run `/incident postmortem publish` "
                    "again.", MAX_TEXT)
