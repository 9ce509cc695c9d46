"""Rotations on real storage: the published (frozen) schedule, who is on call, overrides, swaps, PTO from Slack
and the fairness ledger. The planning itself is `bot.rotations` (plain Python); this module feeds it what the
database knows and stores what it decides."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.context import AppContext
from bot.rotations import store
from bot.rotations.domain import (
    PRIMARY,
    BurdenEvent,
    Override,
    Plan,
    RotationConfig,
    ServedShift,
    Shift,
    UnavailabilityConfig,
    horizon_end,
    plan_window,
)
from bot.rotations.domain.ical import EventRevision, revise
from storage.models import BurdenRecord, PublishedShift, RotationOverride, Unavailability
from storage.tables_rotations import RotationCoverOffer
from storage.types import utcnow

log = logging.getLogger(__name__)


class RotationError(ValueError):
    """A request about a rotation that cannot be done (shown to the user)."""


def rotation_config(ctx: AppContext, name: str) -> RotationConfig:
    rotation = ctx.config.rotation(name)
    if rotation is None:
        known = ", ".join(r.name for r in ctx.config.rotations) or "none configured"
        raise RotationError(f"unknown rotation `{name}` (rotations: {known})")
    return rotation


def effective_rotation(session: Session, rotation: RotationConfig) -> RotationConfig:
    """The configured rotation plus PTO entered from Slack (`/oncall away`) for its members."""
    members = {m.user for m in rotation.members}
    rows = session.exec(select(Unavailability).where(col(Unavailability.user_id).in_(members))).all()
    if not rows:
        return rotation
    extra = [UnavailabilityConfig(user=r.user_id, start=r.start, end=r.end, reason=r.reason) for r in rows]
    return rotation.model_copy(update={"unavailability": [*rotation.unavailability, *extra]})


def _published(session: Session, rotation: str) -> list[PublishedShift]:
    return list(session.exec(select(PublishedShift).where(PublishedShift.rotation == rotation)
                             .order_by(col(PublishedShift.start), col(PublishedShift.role))))


def _to_shift(row: PublishedShift) -> Shift:
    return Shift(rotation=row.rotation, role=row.role, user=row.user_id, start=row.start, end=row.end,
                 weight=row.weight, source="frozen")


def _inputs(session: Session, rotation: RotationConfig, now: datetime):
    rows = _published(session, rotation.name)
    history = [ServedShift(user=r.user_id, start=r.start, end=r.end, role=r.role, weight=r.weight)
               for r in rows if r.end <= now]
    frozen = [_to_shift(r) for r in rows if r.end > now]
    members = [m.user for m in rotation.members]
    burden = [BurdenEvent(user=b.user_id, at=b.at, weight=b.weight, reason=b.kind)
              for b in session.exec(select(BurdenRecord).where(col(BurdenRecord.user_id).in_(members)))]
    overrides = [Override(user=o.user_id, start=o.start, end=o.end, role=o.role, reason="override")
                 for o in session.exec(select(RotationOverride).where(RotationOverride.rotation == rotation.name))]
    return rows, history, frozen, burden, overrides


def ensure_published(ctx: AppContext, name: str, now: datetime | None = None, *, until: datetime | None = None) -> int:
    """Publish (freeze) every shift starting before the horizon (or `until`, if later). Returns how many new.

    Two callers (threads or replicas) may publish at once: the unique (rotation, role, start) constraint lets
    one win, and the loser re-reads what was published instead of failing."""
    for attempt in range(3):
        try:
            return _publish(ctx, name, now or utcnow(), until)
        except IntegrityError:
            if attempt == 2:
                raise
    return 0


def _publish(ctx: AppContext, name: str, now: datetime, until: datetime | None) -> int:
    base = rotation_config(ctx, name)
    with ctx.session() as s:
        rotation = effective_rotation(s, base)
        limit = max(horizon_end(rotation, now), until or now)
        rows, history, frozen, burden, _overrides = _inputs(s, rotation, now)
        if rows and max(r.end for r in rows) >= limit:
            return 0
        window_start = min((f.start for f in frozen), default=now)
        result = plan_window(rotation, window_start, limit, history=history, frozen=frozen, extra_burden=burden,
                             previous=store.communicated_plan(s, name))
        existing = {(r.role, r.start) for r in rows}
        added = 0
        for shift in result.shifts:
            if shift.start < limit and (shift.role, shift.start) not in existing and shift.end > now:
                s.add(PublishedShift(rotation=name, role=shift.role, start=shift.start, end=shift.end,
                                     user_id=shift.user, weight=shift.weight, origin="plan"))
                added += 1
        return added


def schedule(ctx: AppContext, name: str, start: datetime, end: datetime, now: datetime | None = None) -> Plan:
    """Published shifts plus the plan beyond the horizon, with overrides applied, for [start, end)."""
    now = now or utcnow()
    ensure_published(ctx, name, now)
    with ctx.session() as s:
        rotation = effective_rotation(s, rotation_config(ctx, name))
        _rows, history, frozen, burden, overrides = _inputs(s, rotation, now)
        previous = store.communicated_plan(s, name)
    window_start = min([start, *[f.start for f in frozen]])
    result = plan_window(rotation, window_start, max(end, start + timedelta(hours=1)), history=history, frozen=frozen,
                         extra_burden=burden, overrides=overrides, previous=previous)
    result.shifts = [sh for sh in result.shifts if sh.end > start and sh.start < end]
    return result


def on_call(ctx: AppContext, name: str, role: str = PRIMARY, at: datetime | None = None) -> str | None:
    """Who holds `role` in rotation `name` at `at`: an override if one covers it, else the published shift."""
    at = at or utcnow()
    ensure_published(ctx, name, min(at, utcnow()), until=at + timedelta(seconds=1))
    with ctx.session() as s:
        return _holder(s, name, role, at)


def _holder(session: Session, name: str, role: str, at: datetime) -> str | None:
    """The latest override covering `at`, else the published shift (the one rule `on_call` and overrides share)."""
    override = session.exec(select(RotationOverride).where(
        RotationOverride.rotation == name, RotationOverride.role == role, RotationOverride.start <= at,
        RotationOverride.end > at).order_by(col(RotationOverride.id).desc())).first()
    if override is not None:
        return override.user_id
    row = session.exec(select(PublishedShift).where(
        PublishedShift.rotation == name, PublishedShift.role == role, PublishedShift.start <= at,
        PublishedShift.end > at)).first()
    return row.user_id if row else None


def holders(session: Session, name: str, role: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime, str | None]]:
    """Who holds `role` over [start, end), as consecutive (from, to, user) pieces (overrides applied)."""
    points = {start, end}
    for row in session.exec(select(PublishedShift).where(
            PublishedShift.rotation == name, PublishedShift.role == role, PublishedShift.start < end,
            PublishedShift.end > start)):
        points.update((row.start, row.end))
    for row in session.exec(select(RotationOverride).where(
            RotationOverride.rotation == name, RotationOverride.role == role, RotationOverride.start < end,
            RotationOverride.end > start)):
        points.update((row.start, row.end))
    cuts = sorted(p for p in points if start <= p <= end)
    pieces: list[tuple[datetime, datetime, str | None]] = []
    for a, b in zip(cuts, cuts[1:]):
        user = _holder(session, name, role, a)
        if pieces and pieces[-1][2] == user and pieces[-1][1] == a:
            pieces[-1] = (pieces[-1][0], b, user)
        else:
            pieces.append((a, b, user))
    return pieces


def oncall_lookup(ctx: AppContext, name: str, role: str, at: datetime) -> str | None:
    """The paging module's hook: current on-call for a rotation step."""
    try:
        return on_call(ctx, name, role, at)
    except RotationError:
        return None


def current_oncall_for_incident(ctx: AppContext) -> list[str]:
    """Primary on-call of every rotation in `incidents.invite_rotations` (invited to new incident channels)."""
    users: list[str] = []
    for name in ctx.config.incidents.invite_rotations:
        user = oncall_lookup(ctx, name, PRIMARY, utcnow())
        if user and user not in users:
            users.append(user)
    return users


# An override is a short cover, not a second schedule: long or far-off ones belong in firewatch.yaml.
OVERRIDE_MAX_LENGTH = timedelta(days=31)
OVERRIDE_MAX_AHEAD = timedelta(days=180)


@dataclass(frozen=True)
class OverrideResult:
    row: RotationOverride
    displaced: list[str]  # who held the time before (without the new person), in order


def add_override(ctx: AppContext, name: str, user: str, start: datetime, end: datetime, *, by: str,
                 role: str | None = None, now: datetime | None = None) -> OverrideResult:
    """`by` puts `user` on call for [start, end) in rotation `name`.

    Admins may cover anyone's time with anyone. A member may only hand time that is *their own* (they hold that
    role for the whole span) to another member of the rotation. Everyone else is refused."""
    rotation = rotation_config(ctx, name)
    now = now or utcnow()
    if end <= start:
        raise RotationError("the override must end after it starts")
    if end <= now:
        raise RotationError("that time is already over")
    if end - start > OVERRIDE_MAX_LENGTH:
        raise RotationError(f"an override can last at most {OVERRIDE_MAX_LENGTH.days} days; for longer changes "
                            "edit the rotation in firewatch.yaml")
    if start > now + OVERRIDE_MAX_AHEAD:
        raise RotationError(f"an override must start within the next {OVERRIDE_MAX_AHEAD.days} days")
    admin = by in ctx.config.admins
    if not admin and rotation.member(by) is None:
        raise RotationError(f"only admins and members of `{name}` can set overrides")
    if not admin and rotation.member(user) is None:
        raise RotationError(f"<@{user}> is not in the *{name}* rotation: members can hand their shift only to "
                            "another member (an admin can set any override)")
    if not admin and user == by:
        raise RotationError("you already hold that time; name the member who should cover it")
    ensure_published(ctx, name, now, until=end)
    roles = [role] if role else [PRIMARY, *(["secondary"] if rotation.secondary else [])]
    with ctx.session() as s:
        chosen, pieces = roles[0], holders(s, name, roles[0], max(start, now), end)
        if not admin:
            mine = [r for r in roles if all(p[2] == by for p in holders(s, name, r, max(start, now), end))]
            if not mine:
                raise RotationError(f"you can only hand over your own *{name}* shift, and that time is not all "
                                    "yours (`/oncall schedule` shows your shifts; an admin can set any override)")
            chosen = mine[0]
            pieces = holders(s, name, chosen, max(start, now), end)
        displaced = list(dict.fromkeys(p[2] for p in pieces if p[2] and p[2] != user))
        row = RotationOverride(rotation=name, user_id=user, role=chosen, start=start, end=end, created_by=by)
        s.add(row)
        from bot.incidents.store import audit

        audit(s, actor=by, entity="rotation", entity_id=None, action="override",
              after={"rotation": name, "user": user, "role": chosen, "start": start.isoformat(),
                     "end": end.isoformat(), "displaced": displaced})
        s.flush()
    roster_changed(ctx, name)
    return OverrideResult(row, displaced)


def add_away(ctx: AppContext, user: str, start: datetime, end: datetime) -> list[tuple[str, PublishedShift]]:
    """Record PTO; return frozen shifts (inside the horizon) the person still holds during it, which need a
    swap or override: the horizon is a promise to everyone else and is not re-planned silently."""
    if end <= start:
        raise RotationError("the end must be after the start")
    with ctx.session() as s:
        s.add(Unavailability(user_id=user, start=start, end=end, reason="PTO"))
        from bot.incidents.store import audit

        audit(s, actor=user, entity="unavailability", entity_id=None, action="away",
              after={"start": start.isoformat(), "end": end.isoformat()})
        clashes = [(c.rotation, c) for c in s.exec(select(PublishedShift).where(
            PublishedShift.user_id == user, PublishedShift.start < end, PublishedShift.end > start)).all()]
    for name in rotations_of(ctx, user):
        roster_changed(ctx, name)
    return clashes


def swap_shifts(ctx: AppContext, first_id: int, second_id: int) -> None:
    """Exchange the people on two published shifts, in one transaction. The ledger moves with the shifts."""
    with ctx.session() as s:
        a, b = s.get(PublishedShift, first_id), s.get(PublishedShift, second_id)
        if a is None or b is None:
            raise RotationError("one of the shifts no longer exists")
        first_user, second_user = a.user_id, b.user_id
        _assign(ctx, a, second_user)
        _assign(ctx, b, first_user)
        s.add(a)
        s.add(b)
        rotation = a.rotation
    roster_changed(ctx, rotation)


def roster_changed(ctx: AppContext, rotation: str | None) -> None:
    """After a committed override, swap or away: the features that care (coverage checks) look again. A failing
    hook is logged; the roster change itself stands."""
    for hook in ctx.services.roster_changed:
        try:
            hook(ctx, rotation)
        except Exception:  # noqa: BLE001 - a hook must never undo or hide the change the person made
            log.exception("roster_changed hook failed for rotation %s", rotation)


def rotations_of(ctx: AppContext, user: str) -> list[str]:
    return [r.name for r in ctx.config.rotations if r.member(user) is not None]


def shift_on(ctx: AppContext, name: str, user: str, day: date, role: str | None = None) -> PublishedShift | None:
    """`user`'s published shift in `name` on `day` (rotation zone): the one starting that day if any, else the one
    covering most of it. `role=None` looks at primary first, then secondary."""
    rotation = rotation_config(ctx, name)
    day_start = datetime.combine(day, time(0), tzinfo=rotation.zone)
    day_end = day_start + timedelta(days=1)
    ensure_published(ctx, name, until=day_end)
    roles = [role] if role else [PRIMARY, "secondary"]
    with ctx.session() as s:
        rows = list(s.exec(select(PublishedShift).where(
            PublishedShift.rotation == name, PublishedShift.user_id == user, col(PublishedShift.role).in_(roles),
            PublishedShift.start < day_end, PublishedShift.end > day_start)))
    if not rows:
        return None

    def key(r: PublishedShift):
        starts_today = day_start <= r.start < day_end
        overlap = min(r.end, day_end) - max(r.start, day_start)
        return (not starts_today, roles.index(r.role), -overlap.total_seconds())

    return sorted(rows, key=key)[0]


def next_shift_of(ctx: AppContext, name: str, user: str, after: datetime, role: str = PRIMARY) -> PublishedShift | None:
    """`user`'s first published (frozen) shift of `role` in `name` starting after `after`."""
    with ctx.session() as s:
        return s.exec(select(PublishedShift).where(
            PublishedShift.rotation == name, PublishedShift.user_id == user, PublishedShift.role == role,
            PublishedShift.start > after).order_by(col(PublishedShift.start))).first()


def published_shift(ctx: AppContext, name: str, role: str, start: datetime) -> PublishedShift | None:
    with ctx.session() as s:
        return s.exec(select(PublishedShift).where(PublishedShift.rotation == name, PublishedShift.role == role,
                                                   PublishedShift.start == start)).first()


def give_shift(ctx: AppContext, shift_id: int, user: str) -> None:
    """Hand one published shift to `user` (a one-way swap); the ledger follows the row."""
    with ctx.session() as s:
        row = s.get(PublishedShift, shift_id)
        if row is None:
            raise RotationError("the shift no longer exists")
        _assign(ctx, row, user)
        s.add(row)


def _assign(ctx: AppContext, row: PublishedShift, user: str) -> None:
    """Give `row` to `user`, re-weighing it: a shift's burden depends on the person (nights and weekends fall in
    their own zone, holidays in their own country)."""
    rotation = rotation_config(ctx, row.rotation)
    member = rotation.member(user)
    if member is not None:
        from bot.rotations.domain import BurdenCalculator

        weight = BurdenCalculator(rotation.rules).for_member(rotation, member, row.start, row.end).weight
        row.weight = weight * (rotation.rules.secondary_weight if row.role != PRIMARY else 1.0)
    row.user_id = user
    row.origin = "swap"


def explain_at(ctx: AppContext, name: str, at: datetime, now: datetime | None = None):
    """`bot.rotations.domain.explain` fed with what the database knows (history, published shifts, overrides, pages)."""
    from bot.rotations.domain import explain

    now = now or utcnow()
    ensure_published(ctx, name, now)
    with ctx.session() as s:
        rotation = effective_rotation(s, rotation_config(ctx, name))
        _rows, history, frozen, burden, overrides = _inputs(s, rotation, now)
        previous = store.communicated_plan(s, name)
    return explain(rotation, at, history=history, frozen=frozen, overrides=overrides, extra_burden=burden,
                   previous=previous)


def stored_inputs(database_url: str, rotation: RotationConfig, now: datetime | None = None) -> tuple[RotationConfig, dict]:
    """What the database knows about `rotation` (PTO from Slack, served and published shifts, overrides, pages),
    as planner inputs, for the command line (which has no Slack client and so no AppContext)."""
    from storage.db import make_engine, session_scope

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as s:
            effective = effective_rotation(s, rotation)
            _rows, history, frozen, burden, overrides = _inputs(s, effective, now or utcnow())
            previous = store.communicated_plan(s, rotation.name)
        return effective, {"history": history, "frozen": frozen, "extra_burden": burden, "overrides": overrides,
                           "previous": previous}
    finally:
        engine.dispose()


def feed_revisions(ctx: AppContext, name: str, shifts: list[Shift], now: datetime) -> dict[str, EventRevision]:
    """SEQUENCE / LAST-MODIFIED per event of the iCal feed: raised for shifts that changed since last served.

    Two feed requests at once may both insert a new event's revision: the primary key lets one win and the
    other re-reads (as `ensure_published` does)."""
    for attempt in range(3):
        try:
            with ctx.session() as s:
                known = store.ical_revisions(s, name)
                revisions = revise(shifts, known, now)
                store.save_ical_revisions(s, name, revisions, known)
            return revisions
        except IntegrityError:
            if attempt == 2:
                raise
    return {}


# -- cover requests (`/oncall cover`) ----------------------------------------------------------------------------

@dataclass
class CoverRequest:
    """What `/oncall cover` would offer: the requester's time in the range and who may take it, in order."""

    rotation: str
    requester: str
    start: datetime
    end: datetime
    pieces: list  # list[cover.Span]
    candidates: list  # list[cover.Candidate], asked in this order
    skipped: dict[str, str]  # member -> why they are not asked


def _spans_of(session: Session, name: str, roles: list[str], user: str, start: datetime, end: datetime) -> list:
    """`user`'s on-call time over [start, end) per role (overrides applied), with the other role's holder."""
    from bot.rotations.domain.cover import Span

    spans = []
    for role in roles:
        other = [r for r in roles if r != role]
        for a, b, holder in holders(session, name, role, start, end):
            if holder == user:
                partner = _holder(session, name, other[0], a) if other else None
                spans.append(Span(role, a, b, partner))
    return sorted(spans, key=lambda sp: (sp.start, sp.role))


def _held_by(session: Session, name: str, user: str, start: datetime, end: datetime) -> list:
    """The shifts `user` holds around [start, end): published ones still theirs, and overrides to them."""
    from bot.rotations.domain.cover import Span

    rows = session.exec(select(PublishedShift).where(
        PublishedShift.rotation == name, PublishedShift.start < end, PublishedShift.end > start)).all()
    held = [Span(r.role, r.start, r.end) for r in rows if _holder(session, name, r.role, r.start) == user]
    held += [Span(o.role, o.start, o.end) for o in session.exec(select(RotationOverride).where(
        RotationOverride.rotation == name, RotationOverride.user_id == user, RotationOverride.start < end,
        RotationOverride.end > start))]
    return held


def cover_request(ctx: AppContext, name: str, requester: str, start: datetime, end: datetime,
                  now: datetime | None = None) -> CoverRequest:
    """Find `requester`'s time in [start, end) and rank the members allowed to take all of it by the ledger."""
    from bot.rotations.domain import fairness_report
    from bot.rotations.domain.cover import Candidate, blocker, margin, ranked

    now = now or utcnow()
    base = rotation_config(ctx, name)
    if base.member(requester) is None:
        raise RotationError(f"you are not in the *{name}* rotation")
    if end <= max(start, now):
        raise RotationError("that time is already over")
    if end - start > OVERRIDE_MAX_LENGTH or start > now + OVERRIDE_MAX_AHEAD:
        raise RotationError(f"a cover request can span at most {OVERRIDE_MAX_LENGTH.days} days, starting within "
                            f"the next {OVERRIDE_MAX_AHEAD.days} days")
    around = margin(base)
    ensure_published(ctx, name, now, until=end + around)
    roles = [PRIMARY, *(["secondary"] if base.secondary else [])]
    with ctx.session() as s:
        rotation = effective_rotation(s, base)
        pieces = _spans_of(s, name, roles, requester, max(start, now), end)
        if not pieces:
            raise RotationError(f"you hold no *{name}* shift in that time; `/oncall schedule {name}` shows yours")
        held = {m.user: _held_by(s, name, m.user, pieces[0].start - around, pieces[-1].end + around)
                for m in rotation.members if m.user != requester}
    skipped = {user: why for user, spans in held.items() if (why := blocker(rotation, user, pieces, spans))}
    ledger = fairness_report(schedule(ctx, name, now, horizon_end(base, now), now=now))
    candidates = ranked([Candidate(m.user, m.name, m.burden, m.share) for m in ledger.members
                         if m.user in held and m.user not in skipped])
    return CoverRequest(name, requester, start, end, pieces, candidates, skipped)


def open_cover(ctx: AppContext, request: CoverRequest, reason: str) -> RotationCoverOffer:
    """Store the offer; refused while the requester has another open offer overlapping it."""
    with ctx.session() as s:
        clash = s.exec(select(RotationCoverOffer).where(
            RotationCoverOffer.rotation == request.rotation, RotationCoverOffer.requester_id == request.requester,
            RotationCoverOffer.status == "open", RotationCoverOffer.range_start < request.end,
            RotationCoverOffer.range_end > request.start)).first()
        if clash is not None:
            raise RotationError("you already asked for cover of that time and nobody has taken it yet; "
                                "wait for an answer or ask an admin for `/oncall override`")
        row = RotationCoverOffer(
            rotation=request.rotation, requester_id=request.requester, reason=reason, range_start=request.start,
            range_end=request.end, candidates=[c.user for c in request.candidates],
            pieces=[{"role": p.role, "start": p.start.isoformat(), "end": p.end.isoformat()} for p in request.pieces])
        s.add(row)
        s.flush()
        s.expunge(row)
        return row


def cover_pieces(offer: RotationCoverOffer) -> list:
    from bot.rotations.domain.cover import Span

    return [Span(p["role"], datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"])) for p in offer.pieces]


def set_cover_posts(ctx: AppContext, offer_id: int, posts: list[dict], status: str | None = None) -> None:
    with ctx.session() as s:
        row = s.get(RotationCoverOffer, offer_id)
        row.posts = posts
        if status:
            row.status = status
        s.add(row)


@dataclass(frozen=True)
class CoverTake:
    """The outcome of an Accept click: `taken` when this person now covers the time; else `message` says why."""

    offer: RotationCoverOffer | None
    taken: bool
    message: str = ""


def take_cover(ctx: AppContext, offer_id: int, user: str, now: datetime | None = None) -> CoverTake:
    """`user` accepts the offer. The claim is one conditional UPDATE, so of two accepts at once one wins and the
    other is told who took it; the rules are checked again at the click (shifts may have moved since)."""
    now = now or utcnow()
    offer = _offer(ctx, offer_id)
    if offer is None:
        return CoverTake(None, False, ":warning: This cover request no longer exists.")
    if user not in offer.candidates:
        return CoverTake(offer, False, "This cover request was offered to other members (you would break a rotation "
                                       "rule or are away then), so it can't be yours.")
    if offer.status != "open":
        return CoverTake(offer, False, _closed(offer))
    problem = _cover_problem(ctx, offer, user, now)
    if problem:
        fresh = _offer(ctx, offer_id)  # taken meanwhile: say by whom, not that the time moved
        if fresh.status != "open":
            return CoverTake(fresh, False, _closed(fresh))
        return CoverTake(offer, False, f":warning: You can't take it any more: {problem}.")
    with ctx.session() as s:
        claimed = s.execute(update(RotationCoverOffer).where(
            RotationCoverOffer.id == offer_id, RotationCoverOffer.status == "open")
            .values(status="taken", taken_by=user, decided_at=now)).rowcount
    if not claimed:
        fresh = _offer(ctx, offer_id)
        return CoverTake(fresh, False, _closed(fresh))
    return _apply_cover(ctx, offer, user, now)


def _offer(ctx: AppContext, offer_id: int) -> RotationCoverOffer | None:
    with ctx.session() as s:
        row = s.get(RotationCoverOffer, offer_id)
        if row is not None:
            s.expunge(row)
        return row


def _closed(offer: RotationCoverOffer) -> str:
    if offer.status == "taken":
        return f"This cover request was already taken by <@{offer.taken_by}>."
    return f"This cover request is {offer.status}; nothing changed."


def _cover_problem(ctx: AppContext, offer: RotationCoverOffer, user: str, now: datetime) -> str | None:
    from bot.rotations.domain.cover import blocker, margin

    pieces = [p for p in cover_pieces(offer) if p.end > now]
    if not pieces:
        return "that time is already over"
    with ctx.session() as s:
        base = rotation_config(ctx, offer.rotation)
        rotation = effective_rotation(s, base)
        for p in pieces:
            if any(h[2] != offer.requester_id for h in holders(s, offer.rotation, p.role, max(p.start, now), p.end)):
                return f"<@{offer.requester_id}> no longer holds all of that time"
        around = margin(rotation)
        held = _held_by(s, offer.rotation, user, pieces[0].start - around, pieces[-1].end + around)
    return blocker(rotation, user, pieces, held)


def _apply_cover(ctx: AppContext, offer: RotationCoverOffer, user: str, now: datetime) -> CoverTake:
    """Record each piece as an override set by the requester (their own time to another member)."""
    done = []
    try:
        for p in cover_pieces(offer):
            if p.end > now:
                done.append(add_override(ctx, offer.rotation, user, p.start, p.end, by=offer.requester_id,
                                         role=p.role, now=now))
    except RotationError as exc:
        with ctx.session() as s:
            s.execute(update(RotationCoverOffer).where(RotationCoverOffer.id == offer.id).values(status="failed"))
        offer.status = "failed"
        kept = f" ({len(done)} of the pieces were already handed over)" if done else ""
        return CoverTake(offer, False, f":warning: Could not hand the shifts over: {exc}{kept}.")
    offer.status, offer.taken_by = "taken", user
    return CoverTake(offer, True)


def health(ctx: AppContext, name: str, start: date, end: date, period: str):
    """`firewatch report health` on what the database knows: shifts starting in [start, end) (rotation zone)."""
    from bot.rotations.domain.health import health_report
    from bot.rotations.domain.timeline import to_aware

    rotation = rotation_config(ctx, name)
    result = schedule(ctx, name, to_aware(start, rotation.zone), to_aware(end, rotation.zone))
    return health_report(result, start, end, period)
