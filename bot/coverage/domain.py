"""Coverage rules in plain Python (no Slack, no database): who effectively holds a rotation over a window, the
gaps in it, escalation policies that reach nobody, on-call people without a working contact method, and the
notifications an alert would cause (`simulate`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.contacts.domain.rules import Step, mask
from bot.paging.domain.config import EscalationPolicyConfig, NotifyTarget
from bot.paging.domain.escalation import escalation_plan
from bot.rotations.domain import RotationConfig, Shift
from bot.rotations.domain.timeline import to_aware

WINDOW = timedelta(days=14)
LABELS_EXAMPLE = "--labels team=payments,severity=critical"
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LabelSyntaxError(ValueError):
    """`--labels` text that is not `name=value,name=value` (the message is shown as is)."""


@dataclass(frozen=True)
class Piece:
    """[start, end) of one role: `holder` has the shift (None: no shift), `user` is reachable (None: nobody)."""

    start: datetime
    end: datetime
    holder: str | None
    user: str | None


@dataclass(frozen=True)
class Problem:
    """One coverage problem: what, who, when (UTC, None for "always"), and how to fix it."""

    scope: str  # the rotation it is posted for, or `policy:<name>` for a policy naming no rotation
    kind: str  # gap | away | nobody | contact
    what: str
    who: str
    start: datetime | None
    end: datetime | None
    fix: str

    def when(self) -> str:
        if self.start is None:
            return "all of the next 14 days"
        if self.end is None:
            return f"on call from {utc_text(self.start)}"
        return f"{utc_text(self.start)} to {utc_text(self.end)}"

    def line(self) -> str:
        """The CLI line: `scope: what — who — when — fix: ...` (no Slack markup)."""
        return f"{self.scope}: {self.what}; who: {self.who}; when: {self.when()}; fix: {self.fix}"


def utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """As `/oncall override` reads it (wall clock in the rotation's zone)."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def fingerprint(problems: Sequence[Problem], start: datetime, end: datetime) -> str:
    """Identifies a problem set (order-free) so the same set is not posted twice in a row. Times at the window's
    edges ([start, end), which move with every run) count as "now" and "later", so an ongoing gap stays the same."""
    def edge(moment: datetime | None) -> str:
        if moment is None:
            return "-"
        return "now" if moment <= start else "later" if moment >= end else moment.isoformat()

    text = "\n".join(sorted(f"{p.scope}|{p.kind}|{p.what}|{p.who}|{edge(p.start)}|{edge(p.end)}"
                             for p in problems))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- rotations -------------------------------------------------------------------------------------------------------

def away_spans(rotation: RotationConfig) -> dict[str, list[tuple[datetime, datetime]]]:
    """Per member, when they cannot be reached on call: unavailability, and outside joined/left."""
    spans: dict[str, list[tuple[datetime, datetime]]] = {m.user: [] for m in rotation.members}
    far_past, far_future = datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(9999, 1, 1, tzinfo=timezone.utc)
    for m in rotation.members:
        # Membership dates are days in the rotation's zone (as the planner reads them).
        if m.joined:
            spans[m.user].append((far_past, to_aware(m.joined, rotation.zone)))
        if m.left:
            spans[m.user].append((to_aware(m.left, rotation.zone), far_future))
    for item in rotation.unavailability:
        member = rotation.member(item.user)
        if member is not None:
            mz = rotation.member_zone(member)
            spans[item.user].append((to_aware(item.start, mz), to_aware(item.end, mz)))
    return spans


def _away_at(spans: Mapping[str, list[tuple[datetime, datetime]]], user: str, at: datetime) -> bool:
    return any(a <= at < b for a, b in spans.get(user, ()))


def effective_pieces(shifts: Sequence[Shift], role: str, away: Mapping[str, list[tuple[datetime, datetime]]],
                     start: datetime, end: datetime) -> list[Piece]:
    """Who can be reached for `role` over [start, end): the shift holder unless they are away (`user` None)."""
    mine = [s for s in shifts if s.role == role and s.end > start and s.start < end]
    cuts = {start, end}
    for s in mine:
        cuts.update((s.start, s.end))
    for spans in away.values():
        for a, b in spans:
            cuts.update((a, b))
    points = sorted(c for c in cuts if start <= c <= end)
    pieces: list[Piece] = []
    for a, b in zip(points, points[1:]):
        # The latest-starting shift wins where two overlap (an override on top of the plan).
        shift = max((s for s in mine if s.start <= a < s.end), key=lambda s: s.start, default=None)
        holder = shift.user if shift else None
        user = holder if holder and not _away_at(away, holder, a) else None
        if pieces and pieces[-1].holder == holder and pieces[-1].user == user and pieces[-1].end == a:
            pieces[-1] = Piece(pieces[-1].start, b, holder, user)
        else:
            pieces.append(Piece(a, b, holder, user))
    return pieces


def gap_problems(rotation: RotationConfig, role: str, pieces: Sequence[Piece]) -> list[Problem]:
    """A problem for every stretch where nobody can be reached for `role`."""
    out = []
    for p in pieces:
        if p.user is not None:
            continue
        override = (f"/oncall override {rotation.name} @someone {local_text(p.start, rotation.zone)} "
                    f"{local_text(p.end, rotation.zone)}")
        if p.holder is None:
            out.append(Problem(rotation.name, "gap", f"gap: nobody is on call ({role})", "nobody", p.start, p.end,
                               f"{override} (an admin), or add members or shifts in firewatch.yaml"))
        else:
            out.append(Problem(rotation.name, "away", f"gap: the {role} on call is away or off the rotation",
                               f"<@{p.holder}>", p.start, p.end,
                               f"{override}, or <@{p.holder}> swaps the shift (`/oncall swap`)"))
    return out


def contact_problems(rotation: str, oncall: Mapping[str, datetime], reasons: Mapping[str, str | None],
                     slack_known: Mapping[str, bool]) -> list[Problem]:
    """On-call people (user -> first time on call) whose pages would reach them nowhere: no working contact
    method, and Slack DMs do not count because Slack does not know them (or was not asked)."""
    out = []
    for user, first in sorted(oncall.items(), key=lambda kv: (kv[1], kv[0])):
        reason = reasons.get(user)
        if reason is None or slack_known.get(user, False):
            continue
        out.append(Problem(rotation, "contact", f"no working contact method ({_detail(reason)})", f"<@{user}>",
                           first, None, f"<@{user}> runs `/oncall contact add sms +44...`, or an admin adds "
                           "methods under contacts: in firewatch.yaml"))
    return out


def _detail(reason: str) -> str:
    """contacts' reason, said about the person (the fix is given separately)."""
    if ": " in reason and reason.startswith("none of"):
        return f"none of their methods can be used: {reason.split(': ', 1)[1]}; Slack does not know them"
    return "no method besides Slack, and Slack does not know them"


# -- escalation policies ---------------------------------------------------------------------------------------------

def policy_rotations(policy: EscalationPolicyConfig) -> list[str]:
    names: list[str] = []
    for step in policy.steps:
        target = step.target()
        if target.kind == "rotation" and target.name not in names:
            names.append(target.name)
    return names


def unreached_spans(policy: EscalationPolicyConfig, pieces: Mapping[tuple[str, str], Sequence[Piece]],
                    user_ok: Callable[[str], bool], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """When no step of `policy` reaches anybody. `pieces` is keyed by (rotation, role); a missing key (say a
    secondary on a rotation without one) reaches nobody."""
    targets = [step.target() for step in policy.steps]
    if any(t.kind == "user" and user_ok(t.name) for t in targets):
        return []
    cuts = {start, end}
    for t in targets:
        for p in pieces.get((t.name, t.role), ()):
            cuts.update((p.start, p.end))
    points = sorted(c for c in cuts if start <= c <= end)
    spans: list[tuple[datetime, datetime]] = []
    for a, b in zip(points, points[1:]):
        reached = any(p.user for t in targets for p in pieces.get((t.name, t.role), ()) if p.start <= a < p.end)
        if reached:
            continue
        if spans and spans[-1][1] == a:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return spans


def policy_problems(policy: EscalationPolicyConfig, spans: Sequence[tuple[datetime, datetime]],
                    known_rotations: Sequence[str]) -> list[Problem]:
    """One problem per span, for each rotation the policy names (so each rotation's channel hears of it)."""
    scopes = [r for r in policy_rotations(policy) if r in known_rotations] or [f"policy:{policy.name}"]
    whole = len(spans) == 1 and spans[0][1] - spans[0][0] >= WINDOW - timedelta(minutes=1)
    users = [s.target().name for s in policy.steps if s.target().kind == "user"]
    people = ", ".join(f"<@{u}>" for u in users)
    fix = (f"make sure someone is on call then (`/oncall override`), or add a step notifying a person or another "
           f"rotation to policy {policy.name!r}") if policy_rotations(policy) else (
           f"check that Slack knows {people} or give them a contact method (`/oncall contact add`), or add a step "
           f"notifying a rotation to policy {policy.name!r}")
    out = []
    for scope in scopes:
        for a, b in spans:
            out.append(Problem(scope, "nobody", f"escalation policy {policy.name!r} reaches nobody",
                               ", ".join(s.notify for s in policy.steps), None if whole else a, None if whole else b,
                               fix))
    return out


# -- simulate --------------------------------------------------------------------------------------------------------

def parse_labels(text: str) -> dict[str, str]:
    """`team=payments,severity=critical` -> labels; anything else raises LabelSyntaxError with an example."""
    labels: dict[str, str] = {}
    for part in (text or "").split(","):
        name, sep, value = part.strip().partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _LABEL_NAME.match(name) or not value:
            raise LabelSyntaxError(f"{part.strip()!r} is not a label: write name=value pairs separated by commas, "
                                   f"like {LABELS_EXAMPLE}")
        if name in labels:
            raise LabelSyntaxError(f"label {name!r} is given twice; give each label once, like {LABELS_EXAMPLE}")
        labels[name] = value
    return labels


@dataclass(frozen=True)
class Notice:
    """One simulated notification (or a step that reaches nobody, `user` None; or the end, `method` "end")."""

    at: datetime
    position: str  # `step 1 of 2` / `step 1 of 2, pass 2 of 2`
    target: str
    user: str | None
    method: str
    address: str = ""


def simulate(policy: EscalationPolicyConfig, start: datetime, holder: Callable[[NotifyTarget, datetime], str | None],
             steps_for: Callable[[str], list[Step]]) -> list[Notice]:
    """Every notification a never-acknowledged page of `policy` raised at `start` would send, in time order."""
    out: list[Notice] = []
    at = start
    for action in escalation_plan(policy):
        where = action.position.describe(policy)
        user = holder(action.target, at)
        if user is None:
            out.append(Notice(at, where, action.target.describe(), None, "nobody"))
        else:
            out.append(Notice(at, where, action.target.describe(), user, "slack", "DM"))
            for step in steps_for(user):
                out.extend(Notice(at + step.after, where, action.target.describe(), user, m.kind, mask(m.address))
                           for m in step.methods)
        at = action.deadline(at)
    out.append(Notice(at, f"after {policy.repeat} pass(es)", "", None, "end"))
    return sorted(out, key=lambda n: (n.at, n.method == "end"))
