"""Accept/Dismiss on each root-cause hypothesis: recorded per hypothesis with the kind of evidence it rests on,
so `firewatch report assist` can say how often each kind of suggestion was right."""

from __future__ import annotations

import logging
from typing import Any

from bot.assist import messages, store
from bot.context import AppContext
from bot.core.slack_errors import slack_error_code
from bot.incidents import messages as incident_messages
from bot.incidents import store as incident_store
from storage.models import SuggestionRecord
from storage.tables_telemetry import HypothesisFeedback

log = logging.getLogger(__name__)

DECISIONS = {messages.HYPOTHESIS_ACCEPT_ACTION_ID: "accepted", messages.HYPOTHESIS_DISMISS_ACTION_ID: "dismissed"}


def hypothesis_kind(payload: dict[str, Any], rank: int) -> str | None:
    """"rca:<kind of the first cited evidence>" for the hypothesis of that rank; None if there is none."""
    hyp = next((h for h in payload.get("hypotheses") or [] if h.get("rank") == rank), None)
    if hyp is None:
        return None
    kinds = {r["id"]: r["kind"] for r in payload.get("evidence") or []}
    first = next((kinds[i] for i in hyp.get("evidence_ids") or [] if i in kinds), "none")
    return f"rca:{first}"


def parse_value(value: str | None) -> tuple[int, int] | None:
    """Button value "<suggestion id>:<rank>"."""
    try:
        sid, rank = (int(x) for x in str(value or "").split(":", 1))
    except ValueError:
        return None
    return (sid, rank) if sid > 0 and 0 < rank < 100 else None


def record(ctx: AppContext, value: str | None, action_id: str, user: str) -> str:
    """Record one decision; returns what to tell the clicker (ephemeral)."""
    parsed, decision = parse_value(value), DECISIONS.get(action_id)
    if parsed is None or decision is None:
        return ":warning: This button does not name a hypothesis."
    sid, rank = parsed
    with ctx.session() as s:
        row = s.get(SuggestionRecord, sid)
        incident = incident_store.get(s, row.incident_id) if row is not None and row.kind == "rca" else None
        if incident is None:
            return ":warning: This suggestion no longer exists."
        if not incident_store.is_participant(s, incident, user):
            return (f":no_entry: Only people in {incident_messages.incident_label(incident, ctx.prefix)} can judge "
                    "its hypotheses; ask someone in the incident channel to add you.")
        kind = hypothesis_kind(row.payload or {}, rank)
        if kind is None:
            return ":warning: That hypothesis is not in this suggestion."
        fb = HypothesisFeedback(suggestion_id=sid, incident_id=incident.id, rank=rank, kind=kind, decision=decision,
                                decided_by=user)
        if not store.add_feedback(s, fb):
            return f":information_source: Hypothesis {rank} was already judged; the first decision stands."
        decisions = {f.rank: messages.hypothesis_decision(f.decision, f.decided_by) for f in store.feedback_for(s, sid)}
        label = incident_messages.incident_label(incident, ctx.prefix)
        channel, ts, payload = row.channel_id, row.message_ts, dict(row.payload or {})
    _update(ctx, channel, ts, payload, label, sid, decisions)
    return f":white_check_mark: Recorded: hypothesis {rank} {decision}. Thank you."


def _update(ctx: AppContext, channel: str | None, ts: str | None, payload: dict[str, Any], label: str, sid: int,
            decisions: dict[int, str]) -> None:
    if not (channel and ts):
        return
    try:
        ctx.slack.chat_update(channel=channel, ts=ts, text=messages.rca_text(payload, label),
                              blocks=messages.rca_blocks(payload, label, suggestion_id=sid, decisions=decisions))
    except Exception as exc:  # noqa: BLE001 - the decision is stored; the message is cosmetic
        log.warning("could not update RCA message %s: %s", sid, slack_error_code(exc))


def precision_lines(ctx: AppContext) -> list[str]:
    """`firewatch report assist`: accepted / judged per kind of suggestion."""
    with ctx.session() as s:
        counts = store.decision_counts(s)
    table: dict[str, dict[str, int]] = {}
    for kind, decision, n in counts:
        table.setdefault(kind, {}).setdefault(decision, 0)
        table[kind][decision] += n
    if not table:
        return ["No suggestion has been accepted or dismissed yet."]
    lines = [f"{'kind':<20} {'accepted':>8} {'dismissed':>9} {'precision':>9}"]
    for kind in sorted(table):
        a, d = table[kind].get("accepted", 0), table[kind].get("dismissed", 0)
        lines.append(f"{kind:<20} {a:>8} {d:>9} {a / (a + d):>9.0%}")
    return lines
