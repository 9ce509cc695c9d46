"""Block Kit for triage and root-cause suggestions.

Every string that came from the model or from evidence was made display-safe by the domain (`bot.assist.domain.display`:
placeholders mapped back to plain names, mentions neutralised) or by `evidence.label`; what is added here is
Firewatch's own wording, configured names (severities, rotations), Slack ids from the database and the clicking
user's id from Slack's own payload. URLs are linked only when they are plain http(s) URLs from the evidence.
"""

from __future__ import annotations

import re
from typing import Any

from bot.assist.evidence import is_http_url
from bot.safety import neutralize_mentions, truncate

ACCEPT_ACTION_ID = "assist_accept"
DISMISS_ACTION_ID = "assist_dismiss"
# Accept/Dismiss on one root-cause hypothesis (value "<suggestion id>:<rank>"): feedback only, nothing changes.
HYPOTHESIS_ACCEPT_ACTION_ID = "assist_hypothesis_accept"
HYPOTHESIS_DISMISS_ACTION_ID = "assist_hypothesis_dismiss"
SECTION_LIMIT = 2900
FIELD_LIMIT = 1900
BUTTON_LIMIT = 75
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def source_label(source: str, note: str = "") -> str:
    """"AI suggestion", or "Heuristic suggestion (…why…)"."""
    if source == "llm":
        return "AI suggestion"
    m = re.search(r"LLM unavailable: ([^;]+)", note or "")
    if m:
        return f"Heuristic suggestion (LLM unavailable: {m.group(1).strip()})"
    if "not configured" in (note or ""):
        return "Heuristic suggestion (no LLM configured)"
    return "Heuristic suggestion"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(text)]}


def link(url: str | None, text: str) -> str:
    """`<url|text>` for a plain http(s) URL (escaped), else just `text`."""
    if not is_http_url(url):
        return text
    return f"<{neutralize_mentions(url)}|{text}>"


def user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id and _USER_ID.match(user_id) else "someone"


def channel(channel_id: str | None) -> str | None:
    return f"<#{channel_id}>" if channel_id and _CHANNEL_ID.match(channel_id) else None


def evidence_lines(payload: dict[str, Any], ids: list[str]) -> str:
    refs = {r["id"]: r for r in payload.get("evidence", [])}
    bits = []
    for eid in ids:
        ref = refs.get(eid)
        if ref is None:
            continue
        bits.append(f"{link(ref.get('url'), '`' + eid + '`')} {ref.get('label', '')}")
    return " · ".join(bits)


def similar_lines(payload: dict[str, Any]) -> str:
    lines = []
    for row in payload.get("similar", []):
        bits = [f"*{row['label']}* {row['title']}"]
        where = channel(row.get("channel_id"))
        if where:
            bits.append(where)
        if row.get("postmortem_url"):
            bits.append(link(row["postmortem_url"], "postmortem"))
        if row.get("evidence_id"):
            bits.append(f"`{row['evidence_id']}`")
        lines.append("• " + " · ".join(bits))
    return "\n".join(lines)


def _confidence(value: float) -> str:
    word = "high" if value >= 0.7 else "medium" if value >= 0.4 else "low"
    return f"{word} ({value:.2f})"


# -- triage ------------------------------------------------------------------------------------------------------

def accept_button_text(payload: dict[str, Any]) -> str:
    s = payload["suggestion"]
    parts = []
    if s["severity"] != payload.get("severity_at_suggestion"):
        parts.append(f"set {s['severity'].upper()}")
    if s.get("suggested_owner"):
        parts.append(f"page {s['suggested_owner']}")
    return truncate("Accept" + (": " + " and ".join(parts) if parts else ""), BUTTON_LIMIT)


def triage_blocks(suggestion_id: int, payload: dict[str, Any], incident_label: str,
                  decided: str | None = None) -> list[dict[str, Any]]:
    s = payload["suggestion"]
    ai = payload.get("source") == "llm"
    emoji = ":robot_face:" if ai else ":bulb:"
    header = f"{emoji} *{payload['label']}* · triage for *{incident_label}*"
    if ai and payload.get("model"):
        header += f" · model `{neutralize_mentions(str(payload['model']))[:80]}`"
    declared = str(payload.get("severity_at_suggestion") or "").upper()
    severity = s["severity"].upper() + (f" (declared {declared})" if declared and declared != s["severity"].upper()
                                        else " (as declared)")
    fields = [
        {"type": "mrkdwn", "text": truncate(f"*Severity*\n{severity}", FIELD_LIMIT)},
        {"type": "mrkdwn", "text": truncate(f"*Suggested owner*\n{s.get('suggested_owner') or 'none suggested'}", FIELD_LIMIT)},
        {"type": "mrkdwn", "text": truncate("*Affected services*\n" + (", ".join(s.get("affected_services") or []) or "unknown"), FIELD_LIMIT)},
        {"type": "mrkdwn", "text": f"*Confidence*\n{_confidence(float(s.get('confidence') or 0))}"},
    ]
    blocks: list[dict[str, Any]] = [_section(header), {"type": "section", "fields": fields}]
    if s.get("summary"):
        blocks.append(_section("*Summary*\n" + s["summary"]))
    steps = s.get("first_steps") or []
    if steps:
        lines = [f"{i}. {st['text']}" + (f" ({link(st.get('url'), 'link')})" if st.get("url") else "")
                 for i, st in enumerate(steps, start=1)]
        blocks.append(_section("*First steps*\n" + "\n".join(lines)))
    if payload.get("budget"):
        blocks.append(_section(truncate("*Error budget*\n" + "\n".join(payload["budget"]), 2900)))
    ev = evidence_lines(payload, s.get("evidence_ids") or [])
    blocks.append(_section("*Evidence*\n" + (ev or "_none cited_")))
    sim = similar_lines(payload)
    if sim:
        blocks.append(_section("*Similar past incidents*\n" + sim))
    notes = [neutralize_mentions(s["note"])] if s.get("note") else []
    notes.append("Nothing changes until someone clicks Accept.")
    blocks.append(_context(" · ".join(notes)))
    if decided:
        blocks.append(_context(decided))
    else:
        blocks.append({
            "type": "actions",
            "block_id": f"assist:{suggestion_id}",
            "elements": [
                {"type": "button", "action_id": ACCEPT_ACTION_ID, "value": str(suggestion_id), "style": "primary",
                 "text": {"type": "plain_text", "text": accept_button_text(payload), "emoji": True}},
                {"type": "button", "action_id": DISMISS_ACTION_ID, "value": str(suggestion_id),
                 "text": {"type": "plain_text", "text": "Dismiss", "emoji": True}},
            ],
        })
    return blocks


def triage_text(payload: dict[str, Any], incident_label: str) -> str:
    s = payload["suggestion"]
    owner = f", owner {s['suggested_owner']}" if s.get("suggested_owner") else ""
    return truncate(f"{payload['label']} for {incident_label}: {s['severity'].upper()}{owner}. {s.get('summary', '')}", 2900)


def decision_text(status: str, by: str | None, applied: dict[str, Any] | None = None) -> str:
    if status == "dismissed":
        return f":heavy_multiplication_x: Dismissed by {user(by)}"
    bits = [f":white_check_mark: Accepted by {user(by)}"]
    applied = applied or {}
    if applied.get("severity"):
        before, after = applied["severity"]
        bits.append(f"severity {before.upper()} → {after.upper()}")
    elif applied.get("severity_note"):
        bits.append(applied["severity_note"])
    if applied.get("page_id"):
        bits.append(f"paged *{applied['owner']}* (page `{applied['page_id']}`)")
    elif applied.get("page_error"):
        bits.append(f"paging {applied['owner']} failed: {applied['page_error']}")
    return " · ".join(bits)


# -- RCA ---------------------------------------------------------------------------------------------------------

def hypothesis_decision(decision: str, by: str | None) -> str:
    mark = ":white_check_mark: Accepted" if decision == "accepted" else ":heavy_multiplication_x: Dismissed"
    return f"{mark} by {user(by)}"


def _hypothesis_buttons(suggestion_id: int, rank: int) -> dict[str, Any]:
    value = f"{suggestion_id}:{rank}"
    return {"type": "actions", "block_id": f"assist_h:{value}", "elements": [
        {"type": "button", "action_id": HYPOTHESIS_ACCEPT_ACTION_ID, "value": value,
         "text": {"type": "plain_text", "text": "Accept", "emoji": True}},
        {"type": "button", "action_id": HYPOTHESIS_DISMISS_ACTION_ID, "value": value,
         "text": {"type": "plain_text", "text": "Dismiss", "emoji": True}},
    ]}


def rca_blocks(payload: dict[str, Any], incident_label: str, *, suggestion_id: int | None = None,
               decisions: dict[int, str] | None = None) -> list[dict[str, Any]]:
    ai = payload.get("source") == "llm"
    header = f"{':robot_face:' if ai else ':bulb:'} *Root-cause hypotheses* for *{incident_label}* · {payload['label']}"
    blocks: list[dict[str, Any]] = [_section(header)]
    hyps = payload.get("hypotheses") or []
    if payload.get("inconclusive"):
        text = ":grey_question: *Inconclusive*: the evidence does not support a root cause yet."
        if payload.get("summary"):
            text += "\n" + payload["summary"]
        blocks.append(_section(text))
    elif payload.get("summary"):
        blocks.append(_section(payload["summary"]))
    for h in hyps:
        ids = ", ".join(f"`{i}`" for i in h["evidence_ids"])
        lines = [f"*{h['rank']}. {h['statement']}*",
                 f"Confidence: {_confidence(float(h['confidence']))} · Evidence: {ids}"]
        for name, key in (("Confirm", "confirm"), ("Refute", "refute"), ("Next check", "next_check")):
            if h.get(key):
                lines.append(f"• {name}: {h[key]}")
        blocks.append(_section("\n".join(lines)))
        if suggestion_id is not None:
            decided = (decisions or {}).get(h["rank"])
            blocks.append(_context(decided) if decided else _hypothesis_buttons(suggestion_id, h["rank"]))
    cited = list(dict.fromkeys(i for h in hyps for i in h["evidence_ids"]))
    if cited:
        blocks.append(_section("*Evidence*\n" + evidence_lines(payload, cited)))
    notes = [neutralize_mentions(payload["note"])] if payload.get("note") else []
    notes.append("Hypotheses to check, not conclusions.")
    blocks.append(_context(" · ".join(notes)))
    return blocks


def rca_text(payload: dict[str, Any], incident_label: str) -> str:
    hyps = payload.get("hypotheses") or []
    if payload.get("inconclusive") and not hyps:
        return f"Root cause for {incident_label}: inconclusive ({payload['label']})"
    first = hyps[0]["statement"] if hyps else ""
    return truncate(f"Root-cause hypotheses for {incident_label} ({payload['label']}): {first}", 2900)
