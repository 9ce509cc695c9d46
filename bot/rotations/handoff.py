"""Shift handoffs: at every change of on-call (grid boundaries and override edges) post who is on now and next,
open incidents, the outgoing person's pages, notes and a fairness line to the rotation's channel, DM the outgoing
and incoming people, and point the rotation's user group at the incoming people.

Scheduling: one APScheduler job per rotation, id `handoff:<rotation>`, at the next boundary (UTC). The job runs
`bot.jobs.shift_handoff(rotation)` -> `run_handoff(ctx, rotation)`, which handles the latest boundary at or before
now (so a job that runs late after a restart still hands off the boundary it was for) and schedules the next one.
`HandoffRecord(rotation, boundary)` is unique and claimed before anything is sent: a job that runs twice sends once.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.context import AppContext
from bot.incidents import visibility
from bot.rotations import messages, service
from bot.rotations.domain import PRIMARY, SECONDARY, RotationConfig, ShiftGrid, fairness_report, horizon_end
from storage.models import HandoffRecord, Incident, OncallNote, PageNotification, PageRecord, RotationOverride
from storage.types import utcnow

log = logging.getLogger(__name__)
HANDOFF_GRACE = 3600 * 6
EPSILON = timedelta(microseconds=1)
MAX_STINT_STEPS = 64


def job_id(rotation: str) -> str:
    return f"handoff:{rotation}"


def roles_of(rotation: RotationConfig) -> list[str]:
    return [PRIMARY, SECONDARY] if rotation.secondary else [PRIMARY]


# -- boundaries ------------------------------------------------------------------------------------------------------

def _override_edges(ctx: AppContext, name: str) -> list[datetime]:
    with ctx.session() as s:
        rows = s.exec(select(RotationOverride).where(RotationOverride.rotation == name)).all()
    return sorted({t for r in rows for t in (r.start, r.end)})


def latest_boundary(ctx: AppContext, name: str, now: datetime) -> datetime:
    """The last change of shift at or before `now`: a grid boundary or the edge of an override."""
    grid = ShiftGrid(service.rotation_config(ctx, name))
    candidates = [grid.boundary(grid.index_at(now))] + [t for t in _override_edges(ctx, name) if t <= now]
    return max(candidates)


def previous_boundary(ctx: AppContext, name: str, before: datetime) -> datetime:
    return latest_boundary(ctx, name, before - EPSILON)


def next_boundary(ctx: AppContext, name: str, after: datetime) -> datetime:
    """The first change of shift strictly after `after`."""
    grid = ShiftGrid(service.rotation_config(ctx, name))
    candidates = [grid.boundary(grid.index_at(after) + 1)] + [t for t in _override_edges(ctx, name) if t > after]
    return min(candidates)


@dataclass(frozen=True)
class Stint:
    """Who holds a role at an instant, until when, and who comes next."""

    role: str
    user: str | None
    until: datetime | None
    next_user: str | None


def stint(ctx: AppContext, name: str, role: str, at: datetime) -> Stint:
    user = service.on_call(ctx, name, role, at)
    cursor = at
    for _ in range(MAX_STINT_STEPS):
        cursor = next_boundary(ctx, name, cursor)
        other = service.on_call(ctx, name, role, cursor)
        if other != user:
            return Stint(role, user, cursor, other)
    return Stint(role, user, None, None)


# -- scheduling ------------------------------------------------------------------------------------------------------

def schedule_next_handoff(ctx: AppContext, name: str, after: datetime | None = None) -> datetime | None:
    """(Re)schedule `handoff:<name>` at the first boundary after `after` (and after now). Returns when."""
    scheduler = ctx.services.scheduler
    if scheduler is None:
        return None
    start = max(after or utcnow(), utcnow())
    when = next_boundary(ctx, name, start)
    scheduler.at(job_id(name), when, "bot.jobs:shift_handoff", (name,), grace=HANDOFF_GRACE)
    return when


def start_handoffs(ctx: AppContext) -> None:
    """On start: publish every rotation's horizon and make sure its next handoff is scheduled. A handoff that came
    due while the process was down (and is within the grace time) is left for the scheduler to run now, late."""
    scheduler = ctx.services.scheduler
    now = utcnow()
    for rotation in ctx.config.rotations:
        try:
            service.ensure_published(ctx, rotation.name, now)
            job = scheduler.aps.get_job(job_id(rotation.name)) if scheduler is not None else None
            due = getattr(job, "next_run_time", None)
            if due is not None and due <= now and (now - due).total_seconds() < HANDOFF_GRACE:
                log.info("handoff for %s came due at %s while stopped; running it late", rotation.name, due)
                continue
            schedule_next_handoff(ctx, rotation.name, now)
        except Exception:  # noqa: BLE001 - one broken rotation must not stop the others (or the server)
            log.exception("could not set up handoffs for rotation %s", rotation.name)


# -- the handoff -----------------------------------------------------------------------------------------------------

@dataclass
class HandoffResult:
    rotation: str
    boundary: datetime
    outgoing: dict[str, str | None]
    incoming: dict[str, str | None]
    sent: bool
    channel_ts: str | None = None
    dms: list[str] = field(default_factory=list)
    notes: int = 0
    problems: list[str] = field(default_factory=list)


def run_handoff(ctx: AppContext, rotation: str, now: datetime | None = None) -> HandoffResult | None:
    """Hand off the latest boundary at or before `now` (default: now) and schedule the next handoff.

    Returns None when that boundary was already handed off (or the rotation is no longer configured). Tests and
    the demo may pass a future `now` to hand off an upcoming boundary without waiting for it.
    """
    now = now or utcnow()
    if ctx.config.rotation(rotation) is None:
        log.warning("handoff job for unknown rotation %s ignored (removed from the config?)", rotation)
        return None
    try:
        boundary = latest_boundary(ctx, rotation, now)
        return _handoff(ctx, rotation, boundary, now)
    finally:
        try:
            schedule_next_handoff(ctx, rotation, now)
        except Exception:  # noqa: BLE001
            log.exception("could not schedule the next handoff of %s", rotation)


def _claim(ctx: AppContext, rotation: str, boundary: datetime, outgoing: str | None, incoming: str | None) -> int | None:
    try:
        with ctx.session() as s:
            row = HandoffRecord(rotation=rotation, boundary=boundary, outgoing_id=outgoing, incoming_id=incoming)
            s.add(row)
            s.flush()
            return row.id
    except IntegrityError:
        return None


def _unclaim(ctx: AppContext, record_id: int) -> None:
    with ctx.session() as s:
        row = s.get(HandoffRecord, record_id)
        if row is not None:
            s.delete(row)


def _already(ctx: AppContext, rotation: str, boundary: datetime) -> bool:
    with ctx.session() as s:
        return s.exec(select(HandoffRecord).where(HandoffRecord.rotation == rotation,
                                                  HandoffRecord.boundary == boundary)).first() is not None


def _handoff(ctx: AppContext, name: str, boundary: datetime, now: datetime) -> HandoffResult | None:
    if _already(ctx, name, boundary):
        return None
    cfg = service.rotation_config(ctx, name)
    roles = roles_of(cfg)
    outgoing = {r: service.on_call(ctx, name, r, boundary - EPSILON) for r in roles}
    incoming = {r: service.on_call(ctx, name, r, boundary) for r in roles}
    record_id = _claim(ctx, name, boundary, outgoing[PRIMARY], incoming[PRIMARY])
    if record_id is None:
        return None
    result = HandoffResult(name, boundary, outgoing, incoming, sent=False)
    if outgoing == incoming:
        log.info("%s: nobody changes at %s; no handoff message", name, boundary)
        return result
    try:
        _send(ctx, cfg, result)
    except Exception:
        _unclaim(ctx, record_id)
        raise
    if not result.sent:
        _unclaim(ctx, record_id)  # nothing reached anyone: let a re-run try again
    return result


def _send(ctx: AppContext, cfg: RotationConfig, result: HandoffResult) -> None:
    name, boundary = cfg.name, result.boundary
    stints = [stint(ctx, name, r, boundary) for r in roles_of(cfg)]
    leaving = [u for u in dict.fromkeys(result.outgoing.values()) if u]
    incidents, pages, notes = _gather(ctx, name, previous_boundary(ctx, name, boundary), boundary, leaving)
    fairness = None
    try:
        fairness = fairness_report(service.schedule(ctx, name, boundary, horizon_end(cfg, boundary)))
    except Exception:  # noqa: BLE001 - a fairness line is not worth a missing handoff
        log.exception("fairness snapshot for %s failed", name)
    content = messages.HandoffContent(rotation=name, boundary=boundary, outgoing=result.outgoing, stints=stints,
                                      incidents=visibility.public_only(incidents), pages=pages, notes=notes,
                                      fairness=fairness, prefix=ctx.prefix)
    _post_channel(ctx, cfg, content, result)
    _post_dms(ctx, content, incidents, result)
    if result.sent and notes:
        with ctx.session() as s:
            for n in notes:
                row = s.get(OncallNote, n.id)
                row.delivered_at = utcnow()
                s.add(row)
        result.notes = len(notes)
    if result.sent:
        sync_usergroup(ctx, cfg, [u for u in result.incoming.values() if u])


def _gather(ctx: AppContext, name: str, window_start: datetime, boundary: datetime, leaving: list[str]):
    """Open incidents, pages the outgoing people received during their stint (once per page), undelivered notes."""
    with ctx.session() as s:
        incidents = list(s.exec(select(Incident).where(Incident.status != "resolved").order_by(col(Incident.number))))
        pages = []
        if leaving:
            rows = s.exec(select(PageNotification, PageRecord).join(PageRecord, PageRecord.id == PageNotification.page_id)
                          .where(col(PageNotification.user_id).in_(leaving), PageNotification.at >= window_start,
                                 PageNotification.at < boundary).order_by(col(PageNotification.at))).all()
            seen: set[int] = set()
            for note, page in rows:
                if page.id not in seen:
                    seen.add(page.id)
                    pages.append((note, page))
        notes = list(s.exec(select(OncallNote).where(OncallNote.rotation == name, col(OncallNote.delivered_at).is_(None))
                            .order_by(col(OncallNote.created_at))))
    return incidents, pages, notes


def _post_channel(ctx: AppContext, cfg: RotationConfig, content, result: HandoffResult) -> None:
    """The rotation's channel is an audience of many: `content` holds public incidents only."""
    if not cfg.channel:
        return
    try:
        resp = ctx.slack.chat_postMessage(channel=cfg.channel, text=messages.handoff_text(content),
                                          blocks=messages.handoff_blocks(content))
        result.channel_ts = resp["ts"]
        result.sent = True
    except Exception as exc:  # noqa: BLE001
        result.problems.append(f"channel: {exc}")
        log.warning("handoff of %s: channel post failed: %s", cfg.name, exc)


def _post_dms(ctx: AppContext, content, incidents: list[Incident], result: HandoffResult) -> None:
    """Each DM lists the private incidents its recipient is a member of (asked of Slack once per channel)."""
    viewers_by_channel: dict[str, set[str]] = {}
    people = [u for u in dict.fromkeys([*result.outgoing.values(), *result.incoming.values()]) if u]
    for user in people:
        personal = dataclasses.replace(content, incidents=_visible(ctx, incidents, user, viewers_by_channel))
        intro = messages.handoff_dm_intro(personal, user, result.incoming)
        try:
            dm = ctx.slack.conversations_open(users=user)["channel"]["id"]
            ctx.slack.chat_postMessage(channel=dm, text=intro + "\n" + messages.handoff_text(personal),
                                       blocks=messages.handoff_blocks(personal, intro=intro))
            result.dms.append(user)
            result.sent = True
        except Exception as exc:  # noqa: BLE001
            result.problems.append(f"DM {user}: {exc}")
            log.warning("handoff of %s: DM to %s failed: %s", content.rotation, user, exc)


def _visible(ctx: AppContext, incidents: list[Incident], user: str, members: dict[str, set[str]]) -> list[Incident]:
    """Public incidents and the private ones whose channel `user` is in (`members` caches Slack's answers)."""
    out = []
    for incident in incidents:
        if incident.private:
            if not incident.channel_id:
                continue
            if incident.channel_id not in members:
                members[incident.channel_id] = visibility.channel_members(ctx, incident.channel_id)
            if user not in members[incident.channel_id]:
                continue
        out.append(incident)
    return out


def sync_usergroup(ctx: AppContext, cfg: RotationConfig, users: list[str]) -> bool:
    """Point the rotation's user group at `users`. Never empties it: with nobody on call, it is left alone."""
    users = list(dict.fromkeys(u for u in users if u))
    if not cfg.usergroup or not users:
        return False
    try:
        ctx.slack.usergroups_users_update(usergroup=cfg.usergroup, users=",".join(users))
        return True
    except Exception as exc:  # noqa: BLE001
        log.warning("could not update user group %s of %s: %s", cfg.usergroup, cfg.name, exc)
        return False


def current_people(ctx: AppContext, name: str, at: datetime | None = None) -> list[str]:
    cfg = service.rotation_config(ctx, name)
    at = at or utcnow()
    return [u for u in (service.on_call(ctx, name, r, at) for r in roles_of(cfg)) if u]


def run_next_handoff(ctx: AppContext, rotation: str) -> HandoffResult | None:
    """For the demo and manual checks: hand off the *next* boundary now, as if its time had come."""
    return run_handoff(ctx, rotation, now=next_boundary(ctx, rotation, utcnow()) + timedelta(seconds=1))
