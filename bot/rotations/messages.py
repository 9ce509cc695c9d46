"""Block Kit and text for `/oncall` replies, swap requests and handoffs. Times are `<!date^…>` tokens (each reader
sees their own zone); text people typed (notes, page titles, names from the config) is escaped."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Sequence

from bot.core.slack_dates import slack_date
from bot.rotations.domain import FairnessReport, Plan
from bot.rotations.domain.numbers import signed
from bot.safety import neutralize_mentions, truncate
from storage.models import Incident, OncallNote, PageNotification, PageRecord, RotationSwap

SWAP_APPROVE = "oncall_swap_approve"
SWAP_DECLINE = "oncall_swap_decline"
SECTION_LIMIT = 2900


def safe(text: str, limit: int = SECTION_LIMIT) -> str:
    return truncate(neutralize_mentions(text or ""), limit)


def who(user: str | None) -> str:
    return f"<@{user}>" if user else "_nobody_"


def when(dt: datetime | None, fmt: str = "{date_short_pretty} {time}") -> str:
    return slack_date(dt, fmt) if dt else "—"


def span(start: datetime, end: datetime) -> str:
    return f"{when(start)} → {when(end)}"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def sections(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Lines packed into as few section blocks as Slack's 3000-character limit allows."""
    blocks, chunk = [], ""
    for line in lines:
        if chunk and len(chunk) + len(line) + 1 > SECTION_LIMIT:
            blocks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(section(chunk))
    return blocks[:45]


# -- who / schedule / fairness -----------------------------------------------------------------------------------

def stint_line(role: str, stint, *, show_role: bool) -> str:
    label = f" ({role})" if show_role else ""
    line = f"{who(stint.user)}{label}"
    if stint.until:
        line += f" until {when(stint.until)}"
        if stint.next_user:
            line += f", then {who(stint.next_user)}"
    return line


def who_lines(rotation: str, stints: Sequence, secondary: bool) -> list[str]:
    parts = [stint_line(s.role, s, show_role=secondary) for s in stints]
    return [f"*{rotation}*: " + " · ".join(parts)]


_SOURCE = {"planned": " _(planned, may change)_", "override": " :arrows_counterclockwise: _override_"}


def schedule_lines(result: Plan, secondary: bool) -> list[str]:
    lines = []
    for s in sorted(result.shifts, key=lambda s: (s.start, s.role)):
        role = f" ({s.role})" if secondary else ""
        lines.append(f"• {span(s.start, s.end)} {who(s.user)}{role}{_SOURCE.get(s.source, '')}")
    return lines


def fairness_table(report: FairnessReport) -> str:
    header = ("name", "burden", "share", "dev", "shifts", "night h", "weekend h", "holiday h")
    rows = [header] + [
        (m.name, f"{m.burden:.1f}", f"{m.share:.1f}", signed(m.deviation, 1), f"{m.primary_shifts}+{m.secondary_shifts}",
         f"{m.night_hours:.0f}", f"{m.weekend_hours:.0f}", f"{m.holiday_hours:.0f}")
        for m in report.members
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in rows]
    return "\n".join(lines)


def _max_dev(report: FairnessReport) -> str:
    """"Max deviation: 0.6 (Cat, below share; …)" in the table's units and rounding (one decimal)."""
    sentence = safe(report.max_dev_sentence(1), 200)
    return sentence[:1].upper() + sentence[1:]


def fairness_line(report: FairnessReport) -> str:
    if not report.members:
        return "Fairness: no members."
    most = max(report.members, key=lambda m: m.deviation)
    least = min(report.members, key=lambda m: m.deviation)
    # The same units and rounding as the table (burden, one decimal), so the line never contradicts it.
    return (f"Fairness: {_max_dev(report)} · most above: {safe(most.name, 80)} ({signed(most.deviation, 1)})"
            f" · most below: {safe(least.name, 80)} ({signed(least.deviation, 1)})")


def fairness_blocks(report: FairnessReport, start: datetime, end: datetime) -> list[dict[str, Any]]:
    table = safe(fairness_table(report), 2800)
    return [
        section(f"*Fairness — {safe(report.rotation, 60)}* (ledger up to {when(end, '{date_short_pretty}')})"),
        section(f"```{table}```"),
        context(f"burden = weighted hours (nights, weekends and holidays weigh more, pages add); share = fair share; "
                f"dev = burden − share; shifts = primary+secondary. {_max_dev(report)}."),
    ]


# -- swaps -----------------------------------------------------------------------------------------------------------

def swap_request_blocks(swap: RotationSwap, shift_end: datetime, theirs_end: datetime | None) -> list[dict[str, Any]]:
    give = f"their *{swap.rotation}* {swap.role} shift {span(swap.shift_start, shift_end)}"
    if swap.counterpart_shift_start and theirs_end:
        take = f"and they take yours {span(swap.counterpart_shift_start, theirs_end)}"
    else:
        take = "(you have no shift after it in the published weeks, so nothing comes back to you)"
    return [
        section(f":arrows_counterclockwise: <@{swap.requester_id}> asks you to take {give} {take}."),
        {"type": "actions", "block_id": f"oncall_swap_{swap.id}", "elements": [
            {"type": "button", "action_id": SWAP_APPROVE, "value": str(swap.id), "style": "primary",
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": SWAP_DECLINE, "value": str(swap.id),
             "text": {"type": "plain_text", "text": "Decline"}},
        ]},
    ]


def override_dm(rotation: str, role: str, *, target: str, by: str, start: datetime, end: datetime,
                displaced: list[str], at: datetime, for_user: str) -> str:
    """The DM an override sends to the person now on call and to each person it displaces: who did what, when."""
    role_text = "" if role == "primary" else f" ({role})"
    instead = f" in place of {', '.join(who(u) for u in displaced)}" if displaced else ""
    if for_user == target:
        lead = f":arrows_counterclockwise: You are now on call for *{rotation}*{role_text} {span(start, end)}{instead}."
    else:
        lead = (f":arrows_counterclockwise: You are no longer on call for *{rotation}*{role_text} {span(start, end)}: "
                f"{who(target)} covers it.")
    return f"{lead} Set by {who(by)} at {when(at)}."


def swap_request_text(swap: RotationSwap) -> str:
    return f"<@{swap.requester_id}> asks you to swap {swap.rotation} on-call shifts."


# -- handoffs --------------------------------------------------------------------------------------------------------

@dataclass
class HandoffContent:
    rotation: str
    boundary: datetime
    outgoing: dict[str, str | None]
    stints: Sequence  # handoff.Stint per role, at the boundary
    incidents: list[Incident]
    pages: list[tuple[PageNotification, PageRecord]]
    notes: list[OncallNote]
    fairness: FairnessReport | None
    prefix: str = "inc"


def handoff_text(c: HandoffContent) -> str:
    on = ", ".join(f"{who(s.user)} ({s.role})" for s in c.stints)
    return f"{c.rotation} handoff: on call now {on}."


def handoff_dm_intro(c: HandoffContent, user: str, incoming: dict[str, str | None]) -> str:
    roles_in = [r for r, u in incoming.items() if u == user]
    if roles_in:
        return f":wave: You are on call for *{c.rotation}* now ({', '.join(roles_in)})."
    return f":tada: Your *{c.rotation}* shift is over — thank you."


def handoff_blocks(c: HandoffContent, intro: str | None = None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": f"Handoff: {c.rotation}"[:150]}}]
    if intro:
        blocks.append(section(intro))
    secondary = len(c.stints) > 1
    now_lines = []
    for s in c.stints:
        role = f" ({s.role})" if secondary else ""
        line = f"*Now*{role}: {who(s.user)}"
        if s.until:
            line += f" until {when(s.until)}"
        if s.next_user:
            line += f" · *next*: {who(s.next_user)}"
        now_lines.append(line)
    handed = ", ".join(f"{who(u)}" for u in dict.fromkeys(v for v in c.outgoing.values() if v)) or "_nobody_"
    now_lines.append(f"Handed over by {handed} at {when(c.boundary)}")
    blocks.append(section("\n".join(now_lines)))
    if c.incidents:
        lines = [f"• {c.prefix.upper()}-{i.number} {safe(i.title, 150)} ({i.severity.upper()}, {i.status})"
                 + (f" <#{i.channel_id}>" if i.channel_id else "") for i in c.incidents[:10]]
        more = f"\n…and {len(c.incidents) - 10} more (`/incident list`)" if len(c.incidents) > 10 else ""
        blocks.append(section(f"*Open incidents ({len(c.incidents)})*\n" + "\n".join(lines) + more))
    else:
        blocks.append(section("*Open incidents*: none :white_check_mark:"))
    if c.pages:
        lines = [f"• {when(n.at, '{time}')} {safe(p.title, 150) or 'page'} — {p.state}"
                 + (f" (ack by {who(p.acknowledged_by)})" if p.acknowledged_by else "") for n, p in c.pages[:10]]
        blocks.append(section(f"*Pages during the last shift ({len(c.pages)})*\n" + "\n".join(lines)))
    else:
        blocks.append(section("*Pages during the last shift*: none"))
    if c.notes:
        lines = [f"• {who(n.author_id)}: {safe(n.text, 500)}" for n in c.notes[:10]]
        blocks.append(section("*Notes*\n" + "\n".join(lines)))
    if c.fairness is not None:
        blocks.append(context(fairness_line(c.fairness)))
    return blocks


# -- weekly digest ---------------------------------------------------------------------------------------------

def digest_lines(health, overdue: Sequence[dict]) -> list[str]:
    """The weekly digest: each person's week (shifts, nights, weekends, burden vs share) and overdue follow-ups.

    `overdue` comes from `bot.followups.service.overdue_followups` (private incidents already left out)."""
    lines = [f":bar_chart: *{safe(health.rotation, 100)}* on-call week, {safe(health.period, 40)}"]
    for p in health.people:
        lines.append(f"• {who(p.user)}: {p.shifts} shift{'s' if p.shifts != 1 else ''}"
                     + (f" + {p.secondary_shifts} secondary" if p.secondary_shifts else "")
                     + f", {p.night_hours:.1f} h night, {p.weekend_hours:.1f} h weekend, longest streak "
                     f"{p.longest_streak_days} d; burden {p.burden:.2f} vs fair share {p.share:.2f} "
                     f"({signed(p.burden - p.share)})")
    if not overdue:
        lines.append(":white_check_mark: No follow-ups are overdue.")
        return lines
    lines.append(f":hourglass: *{len(overdue)} overdue follow-up{'s' if len(overdue) != 1 else ''}*")
    for item in overdue:
        text = safe(item["text"], 200)
        link = f" <{item['url']}|issue>" if item.get("url") else ""
        lines.append(f"• {safe(item['incident'], 60)}: {text} — {who(item.get('owner'))}, open {item['age']}{link}")
    return lines


def digest_blocks(lines: Sequence[str]) -> list[dict[str, Any]]:
    return sections(lines)


# -- cover requests and health -----------------------------------------------------------------------------------

COVER_TAKE = "oncall_cover_take"


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def cover_piece_lines(pieces: Sequence) -> list[str]:
    return [f"• {span(p.start, p.end)}{'' if p.role == 'primary' else f' ({p.role})'}" for p in pieces]


def cover_offer_text(rotation: str, requester: str) -> str:
    return f"{who(requester)} asks you to cover their {rotation} on-call shifts."


def cover_offer_blocks(offer_id: int, rotation: str, requester: str, reason: str, pieces: Sequence,
                       position: int, asked: int) -> list[dict[str, Any]]:
    """The DM to one candidate: whose time, why, and the button; the first of those asked to press it takes it."""
    why = f" ({safe(reason, 300)})" if reason else ""
    lead = f":sos: {who(requester)} asks for cover of their *{safe(rotation, 60)}* on-call time{why}:"
    order = (f"You are the {_ordinal(position)} of {asked} members asked (lowest burden against fair share first); "
             "the first to press the button takes all of it.")
    return [
        *sections([lead, *cover_piece_lines(pieces)]),
        context(order),
        {"type": "actions", "block_id": f"oncall_cover_{offer_id}", "elements": [
            {"type": "button", "action_id": COVER_TAKE, "value": str(offer_id), "style": "primary",
             "text": {"type": "plain_text", "text": "Take these shifts"}}]},
    ]


def cover_closed_blocks(rotation: str, requester: str, pieces: Sequence, taker: str | None) -> list[dict[str, Any]]:
    """What each offer DM becomes once someone took it (no button left)."""
    head = (f":white_check_mark: {who(taker)} took {who(requester)}'s *{safe(rotation, 60)}* time:" if taker
            else f":warning: {who(requester)}'s *{safe(rotation, 60)}* cover request is closed:")
    return sections([head, *cover_piece_lines(pieces)])


def cover_requested_reply(rotation: str, pieces: Sequence, asked: Sequence, failed: Sequence[str],
                          skipped: dict[str, str]) -> str:
    """The requester's ephemeral answer: what was offered, to whom in order, who was left out and why."""
    order = ", ".join(f"{i}. {who(c.user)} ({signed(c.deviation, 1)})" for i, c in enumerate(asked, 1))
    lines = [f":sos: Asked {len(asked)} member(s) to cover your *{rotation}* time, lowest burden against fair share "
             f"first: {order}.", *cover_piece_lines(pieces)]
    if failed:
        lines.append(f"I couldn't reach {', '.join(who(u) for u in failed)}.")
    if skipped:
        lines.append("Not asked: " + "; ".join(f"{who(u)} ({why})" for u, why in sorted(skipped.items())) + ".")
    lines.append("You keep the shifts until someone accepts; I'll DM you when they do.")
    return "\n".join(lines)


def cover_taken_dm(rotation: str, pieces: Sequence, *, taker: str, requester: str, for_user: str) -> str:
    if for_user == taker:
        lead = f":white_check_mark: You now cover {who(requester)}'s *{rotation}* on-call time:"
    else:
        lead = f":white_check_mark: {who(taker)} took your *{rotation}* cover request; you are off call for:"
    return "\n".join([lead, *cover_piece_lines(pieces)])


def health_blocks(report, chart_note: str) -> list[dict[str, Any]]:
    """The `firewatch report health` table as a code block, plus where the chart went."""
    table = safe(report.render(), 2800)
    return [
        section(f":heartpulse: *On-call health — {safe(report.rotation, 60)}, {safe(report.period, 20)}*"),
        section(f"```{table}```"),
        context("shifts = primary+secondary · hours in each person's own zone · streak = most days in a row on call "
                f"· burden vs fair share since the rotation's start · planner: {safe(report.planner, 20)}. "
                + chart_note),
    ]
