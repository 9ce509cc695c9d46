"""What each `/oncall` command does after the ack, and the swap decision. Each returns a `Reply` for the person who
asked (ephemeral); errors the user can fix are `RotationError`s with a plain message."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from bot.context import AppContext
from bot.rotations import handoff, messages, service
from bot.rotations.domain.commands import USAGE, Moment, OncallCommand, moment_day, to_instant
from bot.rotations.service import RotationError
from bot.rotations.domain import fairness_report, horizon_end, to_ical
from bot.rotations.domain.config import zone
from bot.safety import neutralize_mentions
from storage.models import CalendarToken, OncallNote, PublishedShift, RotationSwap
from storage.types import utcnow

log = logging.getLogger(__name__)
ICAL_PAST = timedelta(weeks=4)
ICAL_FUTURE = timedelta(weeks=8)


@dataclass
class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = field(default=None)


def run(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    handler = _HANDLERS.get(cmd.name)
    if handler is None:
        return Reply(USAGE)
    return handler(ctx, cmd, user)


# -- helpers ---------------------------------------------------------------------------------------------------------

def pick_rotation(ctx: AppContext, explicit: str | None, user: str, verb: str) -> str:
    if explicit:
        return explicit
    names = [r.name for r in ctx.config.rotations]
    if not names:
        raise RotationError("no rotations are configured yet (add `rotations:` to firewatch.yaml)")
    mine = service.rotations_of(ctx, user)
    if len(mine) == 1:
        return mine[0]
    if len(names) == 1:
        return names[0]
    choices = mine or names
    raise RotationError(f"say which rotation, e.g. `/oncall {verb} {choices[0]} …` (one of: {', '.join(choices)})")


def _known_user(ctx: AppContext, user: str) -> bool:
    if any(r.member(user) for r in ctx.config.rotations):
        return True
    try:
        info = ctx.slack.users_info(user=user)
        return bool(info.get("ok")) and not info["user"].get("deleted")
    except Exception:  # noqa: BLE001 - user_not_found and friends
        return False


def _user_zone(ctx: AppContext, user: str):
    for r in ctx.config.rotations:
        m = r.member(user)
        if m is not None:
            return r.member_zone(m)
    try:
        return zone(ctx.slack.users_info(user=user)["user"].get("tz") or "UTC")
    except Exception:  # noqa: BLE001
        return zone("UTC")


def _range(start_m: Moment, end_m: Moment, tz) -> tuple[datetime, datetime]:
    start, end = to_instant(start_m, tz), to_instant(end_m, tz, end=True)
    if end <= start:
        raise RotationError("the end must be after the start (an end date is included: "
                            "`2027-03-01 2027-03-01` is that whole day)")
    return start, end


# -- commands --------------------------------------------------------------------------------------------------------

def _who(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    if cmd.rotation:
        names = [cmd.rotation]
    else:
        names = service.rotations_of(ctx, user) or [r.name for r in ctx.config.rotations]
    if not names:
        raise RotationError("no rotations are configured yet (add `rotations:` to firewatch.yaml)")
    now = utcnow()
    lines = []
    for name in names:
        cfg = service.rotation_config(ctx, name)
        stints = [handoff.stint(ctx, name, role, now) for role in handoff.roles_of(cfg)]
        lines += messages.who_lines(name, stints, cfg.secondary)
    return Reply("\n".join(lines), messages.sections([":telephone_receiver: *On call now*", *lines]))


def _schedule(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    name = pick_rotation(ctx, cmd.rotation, user, "schedule")
    cfg = service.rotation_config(ctx, name)
    weeks = int(cmd.args.get("weeks") or 2)
    now = utcnow()
    result = service.schedule(ctx, name, now, now + timedelta(weeks=weeks), now=now)
    lines = messages.schedule_lines(result, cfg.secondary)
    head = f":calendar: *{name}* — the next {weeks} week{'s' if weeks > 1 else ''} (times in your zone)"
    tail = messages.context(f"Published up to {messages.when(horizon_end(cfg, now))}; later shifts are planned "
                            "and may still change. `/oncall swap` and `/oncall override` change published ones.")
    return Reply(f"{name}: {len(lines)} shifts in the next {weeks} weeks",
                 [*messages.sections([head, *(lines or ["_no shifts_"])]), tail])


def _fairness(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    name = pick_rotation(ctx, cmd.rotation, user, "fairness")
    cfg = service.rotation_config(ctx, name)
    now = utcnow()
    end = horizon_end(cfg, now)
    report = fairness_report(service.schedule(ctx, name, now, end, now=now))
    return Reply(f"Fairness for {name}\n```{messages.safe(messages.fairness_table(report))}```",
                 messages.fairness_blocks(report, now, end))


def _explain(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    name = pick_rotation(ctx, cmd.rotation, user, "explain")
    cfg = service.rotation_config(ctx, name)
    at_m = cmd.args.get("at")
    at = to_instant(at_m, cfg.zone) if at_m is not None else utcnow()
    explanation = service.explain_at(ctx, name, at)
    body = messages.safe(explanation.render(), 2700)
    return Reply(f"Why {name} at {at:%Y-%m-%d %H:%M} UTC\n```{body}```",
                 [messages.section(f":mag: *{name}* at {messages.when(at)}"), messages.section(f"```{body}```")])


def _note(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    name = pick_rotation(ctx, cmd.rotation, user, "note")
    with ctx.session() as s:
        s.add(OncallNote(rotation=name, author_id=user, text=str(cmd.args["text"])))
    nxt = handoff.next_boundary(ctx, name, utcnow())
    return Reply(f":memo: Noted for the next *{name}* handoff ({messages.when(nxt)}): "
                 f"“{messages.safe(str(cmd.args['text']), 300)}”")


def ical_url(ctx: AppContext, rotation: str, token: str) -> str:
    """The feed link; only called with FIREWATCH_PUBLIC_URL set (a localhost link would not work for anyone)."""
    base = (ctx.settings.public_url or "").rstrip("/")
    return f"{base}/oncall/{rotation}.ics?token={token}"


PUBLIC_URL_MISSING = ("Calendar links need this server's public address, and FIREWATCH_PUBLIC_URL is not set. "
                      "Ask whoever runs Firewatch to set FIREWATCH_PUBLIC_URL (e.g. `https://firewatch.example.com`) "
                      "and restart it; then run `/oncall export` again.")


def _export(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    name = pick_rotation(ctx, cmd.rotation, user, "export")
    if cmd.args.get("revoke"):
        count = revoke_calendar_tokens(ctx, name, user)
        if not count:
            return Reply(f"You have no *{name}* calendar link to revoke.")
        return Reply(f":lock: Revoked your *{name}* calendar link: it stops working now. "
                     f"`/oncall export {name}` makes a new one.")
    if not (ctx.settings.public_url or "").strip():
        raise RotationError(PUBLIC_URL_MISSING)
    token = calendar_token(ctx, name, user)
    url = ical_url(ctx, name, token)
    return Reply(f":calendar: Your private calendar link for *{name}* (subscribe to it from your calendar app; "
                 f"keep it to yourself; `/oncall export {name} revoke` turns it off):\n{url}")


def calendar_token(ctx: AppContext, rotation: str, user: str) -> str:
    """The person's one calendar token for `rotation`, made on first use (one per person and rotation: the same
    link every time, until revoked)."""
    with ctx.session() as s:
        row = s.exec(select(CalendarToken).where(CalendarToken.rotation == rotation,
                                                 CalendarToken.user_id == user)).first()
        if row is not None:
            return row.token
        token = secrets.token_urlsafe(32)
        s.add(CalendarToken(token=token, rotation=rotation, user_id=user))
        return token


def revoke_calendar_tokens(ctx: AppContext, rotation: str, user: str) -> int:
    """Delete the person's calendar tokens for `rotation`; their old links then get 403. Returns how many."""
    with ctx.session() as s:
        rows = list(s.exec(select(CalendarToken).where(CalendarToken.rotation == rotation,
                                                       CalendarToken.user_id == user)))
        for row in rows:
            s.delete(row)
        if rows:
            from bot.incidents.store import audit

            audit(s, actor=user, entity="calendar_token", entity_id=None, action="revoke",
                  after={"rotation": rotation, "count": len(rows)})
    return len(rows)


def _override(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    target = str(cmd.args["user"])
    name = pick_rotation(ctx, cmd.rotation, user, "override")
    cfg = service.rotation_config(ctx, name)
    start, end = _range(cmd.args["start"], cmd.args["end"], cfg.zone)  # type: ignore[arg-type]
    now = utcnow()
    if end <= now:
        raise RotationError("that time is already over")
    if not _known_user(ctx, target):
        raise RotationError(f"I can't find <@{target}> in this workspace; nothing was changed")
    result = service.add_override(ctx, name, target, start, end, by=user, now=now)
    handoff.schedule_next_handoff(ctx, name, now)
    if start <= now:
        handoff.sync_usergroup(ctx, cfg, handoff.current_people(ctx, name, now))
    role = "" if result.row.role == "primary" else f" ({result.row.role})"
    note = (f":arrows_counterclockwise: <@{target}> covers *{name}*{role} {messages.span(start, end)} "
            f"(set by <@{user}>).")
    if cfg.channel:
        try:
            ctx.slack.chat_postMessage(channel=cfg.channel, text=note)
        except Exception as exc:  # noqa: BLE001
            log.warning("could not announce override in %s: %s", cfg.channel, exc)
    for person in dict.fromkeys([target, *result.displaced]):
        _tell(ctx, person, messages.override_dm(name, result.row.role, target=target, by=user, start=start, end=end,
                                                displaced=result.displaced, at=now, for_user=person))
    return Reply(f":white_check_mark: Override set: <@{target}> is on call for *{name}*{role} "
                 f"{messages.span(start, end)}.")


def _away(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    tz = _user_zone(ctx, user)
    start, end = _range(cmd.args["start"], cmd.args["end"], tz)  # type: ignore[arg-type]
    now = utcnow()
    if end <= now:
        raise RotationError("that time is already over")
    clashes = [(r, s) for r, s in service.add_away(ctx, user, start, end) if s.end > now]
    head = f":palm_tree: Away {messages.span(start, end)} noted. Shifts planned beyond the published weeks will avoid you."
    if not clashes:
        return Reply(head + " None of your published shifts fall in that time.")
    lines = [f"• *{r}* {messages.span(s.start, s.end)} ({s.role})" for r, s in sorted(clashes, key=lambda c: c[1].start)]
    first_rotation, first = clashes[0]
    day = first.start.astimezone(service.rotation_config(ctx, first_rotation).zone).date()
    advice = (f"Published shifts don't move on their own. Find cover: `/oncall swap {first_rotation} @someone {day}`, "
              f"or ask an admin for `/oncall override {first_rotation} @someone <start> <end>`.")
    text = f"{head}\n:warning: You still hold {len(clashes)} published shift(s) in that time:\n" + "\n".join(lines) + "\n" + advice
    return Reply(text, messages.sections([text]))


def _swap(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    if cmd.args.get("withdraw"):
        return _withdraw_swaps(ctx, cmd.rotation, user)
    counterpart = str(cmd.args["user"])
    day_m: Moment = cmd.args["day"]  # type: ignore[assignment]
    if counterpart == user:
        raise RotationError("you can't swap with yourself")
    if not _known_user(ctx, counterpart):
        raise RotationError(f"I can't find <@{counterpart}> in this workspace; nothing was asked")
    name = cmd.rotation or _swap_rotation(ctx, user, counterpart)
    cfg = service.rotation_config(ctx, name)
    if cfg.member(user) is None:
        raise RotationError(f"you are not in the *{name}* rotation")
    if cfg.member(counterpart) is None:
        raise RotationError(f"<@{counterpart}> is not in the *{name}* rotation")
    day = moment_day(day_m, cfg.zone)
    mine = service.shift_on(ctx, name, user, day)
    if mine is None:
        raise RotationError(f"you have no published *{name}* shift on {day}; `/oncall schedule {name}` shows yours")
    now = utcnow()
    if mine.start <= now:
        raise RotationError("that shift has already started; ask an admin for `/oncall override` instead")
    theirs = service.next_shift_of(ctx, name, counterpart, mine.start, mine.role)
    with ctx.session() as s:
        pending = s.exec(select(RotationSwap).where(RotationSwap.rotation == name, RotationSwap.requester_id == user,
                                                    RotationSwap.shift_start == mine.start,
                                                    RotationSwap.role == mine.role,
                                                    RotationSwap.status == "pending")).first()
        if pending is not None:
            raise RotationError(f"you already asked <@{pending.counterpart_id}> about that shift; wait for their "
                                f"answer or take it back with `/oncall swap {name} withdraw`")
        swap = RotationSwap(rotation=name, requester_id=user, counterpart_id=counterpart, shift_start=mine.start,
                            counterpart_shift_start=theirs.start if theirs else None, role=mine.role)
        s.add(swap)
        s.flush()
        swap_id = swap.id
    try:
        dm = ctx.slack.conversations_open(users=counterpart)["channel"]["id"]
        ctx.slack.chat_postMessage(channel=dm, text=messages.swap_request_text(swap),
                                   blocks=messages.swap_request_blocks(swap, mine.end, theirs.end if theirs else None))
    except Exception as exc:  # noqa: BLE001
        with ctx.session() as s:
            row = s.get(RotationSwap, swap_id)
            row.status = "failed"
            s.add(row)
        log.warning("swap %s: could not DM %s: %s", swap_id, counterpart, exc)
        raise RotationError(f"I couldn't send <@{counterpart}> the request; try again shortly") from exc
    back = (f" and you take theirs {messages.span(theirs.start, theirs.end)}" if theirs
            else " (they have no later shift in the published weeks, so nothing comes back to you)")
    return Reply(f":arrows_counterclockwise: Asked <@{counterpart}> to take your *{name}* shift "
                 f"{messages.span(mine.start, mine.end)}{back}. I'll tell you when they answer "
                 f"(`/oncall swap {name} withdraw` takes the request back).")


def withdraw_swaps(ctx: AppContext, rotation: str | None, user: str) -> list[RotationSwap]:
    """Withdraw `user`'s pending swap requests (in `rotation`, or all); tell each person asked. Only the requester
    can withdraw their own requests: the query is on `requester_id`. Returns the withdrawn requests."""
    now = utcnow()
    with ctx.session() as s:
        query = select(RotationSwap).where(RotationSwap.requester_id == user, RotationSwap.status == "pending")
        if rotation:
            query = query.where(RotationSwap.rotation == rotation)
        candidates = list(s.exec(query))
        withdrawn = []
        for swap in candidates:
            # Claimed like a decision: a request answered at the same moment is either answered or withdrawn.
            claimed = s.execute(update(RotationSwap).where(RotationSwap.id == swap.id,
                                                           RotationSwap.status == "pending")
                                .values(status="withdrawn", decided_at=now)).rowcount
            if claimed:
                withdrawn.append(swap)
    for swap in withdrawn:
        _tell(ctx, swap.counterpart_id, f":leftwards_arrow_with_hook: <@{user}> withdrew their *{swap.rotation}* "
                                        f"swap request for {messages.when(swap.shift_start)}; nothing changed and "
                                        "its buttons no longer do anything.")
    return withdrawn


def _withdraw_swaps(ctx: AppContext, rotation: str | None, user: str) -> Reply:
    withdrawn = withdraw_swaps(ctx, rotation, user)
    where = f" in *{rotation}*" if rotation else ""
    if not withdrawn:
        return Reply(f"You have no pending swap requests{where}.")
    lines = [f"• <@{w.counterpart_id}>, *{w.rotation}* {messages.when(w.shift_start)}" for w in withdrawn]
    return Reply(f":leftwards_arrow_with_hook: Withdrew {len(withdrawn)} swap request(s){where}; each person asked "
                 "has been told:\n" + "\n".join(lines))


def _swap_rotation(ctx: AppContext, user: str, counterpart: str) -> str:
    shared = [r.name for r in ctx.config.rotations if r.member(user) and r.member(counterpart)]
    if len(shared) == 1:
        return shared[0]
    if not shared:
        mine = service.rotations_of(ctx, user)
        if not mine:
            raise RotationError("you are not in any rotation")
        raise RotationError(f"<@{counterpart}> is not in your rotation ({', '.join(mine)})")
    raise RotationError(f"you share several rotations ({', '.join(shared)}); say which: "
                        f"`/oncall swap {shared[0]} @user <date>`")


def decide_swap(ctx: AppContext, swap_id: int, user: str, approve: bool) -> tuple[str, bool]:
    """The counterpart pressed Approve or Decline. Returns (text for them, whether the DM's buttons are done)."""
    now = utcnow()
    with ctx.session() as s:
        swap = s.get(RotationSwap, swap_id)
        if swap is None:
            return ":warning: This swap request no longer exists.", True
        if swap.counterpart_id != user:
            return f"Only <@{swap.counterpart_id}> can answer this request.", False
        if swap.status != "pending":
            return f"This request was already {swap.status}.", True
        # Claim the decision atomically: a double click or two tabs decide once.
        claimed = s.execute(update(RotationSwap).where(RotationSwap.id == swap_id, RotationSwap.status == "pending")
                            .values(status="approved" if approve else "declined", decided_at=now)).rowcount
    if not claimed:
        return "This request was already answered.", True
    if not approve:
        _tell(ctx, swap.requester_id, f":no_entry_sign: <@{user}> declined your *{swap.rotation}* swap for "
                                      f"{messages.when(swap.shift_start)}. Your shifts are unchanged.")
        return f":no_entry_sign: Declined. <@{swap.requester_id}> keeps the shift {messages.when(swap.shift_start)}.", True
    problem = None
    mine = service.published_shift(ctx, swap.rotation, swap.role, swap.shift_start)
    theirs = (service.published_shift(ctx, swap.rotation, swap.role, swap.counterpart_shift_start)
              if swap.counterpart_shift_start else None)
    if mine is None or mine.user_id != swap.requester_id:
        problem = f"<@{swap.requester_id}> no longer holds that shift"
    elif swap.counterpart_shift_start and (theirs is None or theirs.user_id != user):
        problem = "you no longer hold the shift you would give back"
    elif mine.start <= now:
        problem = "the shift has already started"
    if problem:
        with ctx.session() as s:
            s.execute(update(RotationSwap).where(RotationSwap.id == swap_id).values(status="failed"))
        _tell(ctx, swap.requester_id, f":warning: Your *{swap.rotation}* swap with <@{user}> could not be done: "
                                      f"{problem}. Nothing changed.")
        return f":warning: Could not swap: {problem}. Nothing changed.", True
    if theirs is not None:
        service.swap_shifts(ctx, mine.id, theirs.id)
        summary = (f"<@{user}> takes {messages.span(mine.start, mine.end)} and <@{swap.requester_id}> takes "
                   f"{messages.span(theirs.start, theirs.end)}")
    else:
        service.give_shift(ctx, mine.id, user)
        summary = f"<@{user}> takes {messages.span(mine.start, mine.end)}"
    _tell(ctx, swap.requester_id, f":white_check_mark: <@{user}> approved your *{swap.rotation}* swap: {summary}.")
    cfg = ctx.config.rotation(swap.rotation)
    if cfg is not None and cfg.channel:
        try:
            ctx.slack.chat_postMessage(channel=cfg.channel, text=f":arrows_counterclockwise: *{swap.rotation}* swap: {summary}.")
        except Exception as exc:  # noqa: BLE001
            log.warning("could not announce swap %s: %s", swap_id, exc)
    return f":white_check_mark: Swapped: {summary}.", True


def _tell(ctx: AppContext, user: str, text: str) -> None:
    try:
        dm = ctx.slack.conversations_open(users=user)["channel"]["id"]
        ctx.slack.chat_postMessage(channel=dm, text=text)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not DM %s: %s", user, exc)


# -- iCal feed -------------------------------------------------------------------------------------------------------

def ical_feed(ctx: AppContext, rotation: str, token: str) -> tuple[int, bytes]:
    """(status, body): 404 unknown rotation, 403 missing or wrong token, else the .ics."""
    cfg = ctx.config.rotation(rotation)
    if cfg is None:
        return 404, b"unknown rotation\n"
    if not token:
        return 403, b"a token is needed: get your link with /oncall export\n"
    with ctx.session() as s:
        row = s.get(CalendarToken, token[:64])
    if row is None or row.rotation != rotation or not secrets.compare_digest(row.token, token):
        return 403, b"this link is not valid: get a new one with /oncall export\n"
    now = utcnow()
    upcoming = service.schedule(ctx, rotation, now, now + ICAL_FUTURE, now=now).shifts
    from bot.rotations.service import _to_shift  # published rows as engine shifts (same mapping as the planner's)

    with ctx.session() as s:
        past = [_to_shift(r) for r in s.exec(select(PublishedShift).where(
            PublishedShift.rotation == rotation, PublishedShift.end <= now, PublishedShift.end > now - ICAL_PAST))]
    names = {m.user: m.display for m in cfg.members}
    events = [*past, *upcoming]
    revisions = service.feed_revisions(ctx, rotation, events, now)
    return 200, to_ical(events, calendar_name=f"On call: {rotation}", names=names, revisions=revisions)


# -- cover requests --------------------------------------------------------------------------------------------------

def _cover(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    """Offer the asker's time in the range by DM to each eligible member, lowest burden first.

    DMs rather than one channel post: only the eligible people get a button (nobody else can press it), each
    sees their place in the order, and nobody has to watch a busy channel to notice they were asked."""
    name = pick_rotation(ctx, cmd.rotation, user, "cover")
    cfg = service.rotation_config(ctx, name)
    start, end = _range(cmd.args["start"], cmd.args["end"], cfg.zone)  # type: ignore[arg-type]
    request = service.cover_request(ctx, name, user, start, end)
    if not request.candidates:
        why = "; ".join(f"<@{u}> {w}" for u, w in sorted(request.skipped.items())) or "nobody else is in it"
        raise RotationError(f"nobody in *{name}* can take that time without breaking a rule ({why}). "
                            f"Ask an admin for `/oncall override {name} @someone <start> <end>`.")
    offer = service.open_cover(ctx, request, str(cmd.args.get("reason") or ""))
    posts, failed = [], []
    for i, cand in enumerate(request.candidates, 1):
        blocks = messages.cover_offer_blocks(offer.id, name, user, offer.reason, request.pieces, i,
                                             len(request.candidates))
        try:
            dm = ctx.slack.conversations_open(users=cand.user)["channel"]["id"]
            resp = ctx.slack.chat_postMessage(channel=dm, text=messages.cover_offer_text(name, user), blocks=blocks)
            posts.append({"user": cand.user, "channel": dm, "ts": resp["ts"]})
        except Exception as exc:  # noqa: BLE001
            log.warning("cover %s: could not DM %s: %s", offer.id, cand.user, exc)
            failed.append(cand.user)
    service.set_cover_posts(ctx, offer.id, posts, None if posts else "failed")
    if not posts:
        raise RotationError("I couldn't reach any of the members who could cover; nothing was asked, try again shortly")
    asked = [c for c in request.candidates if c.user not in failed]
    text = messages.cover_requested_reply(name, request.pieces, asked, failed, request.skipped)
    return Reply(text, messages.sections([text]))


def take_cover(ctx: AppContext, offer_id: int, user: str) -> tuple[str, bool]:
    """A candidate pressed "Take these shifts". Returns (text for them, whether their DM is done)."""
    now = utcnow()
    result = service.take_cover(ctx, offer_id, user, now)
    offer = result.offer
    if not result.taken:
        return result.message, bool(offer is not None and offer.status != "open")
    pieces = service.cover_pieces(offer)
    cfg = service.rotation_config(ctx, offer.rotation)
    handoff.schedule_next_handoff(ctx, offer.rotation, now)
    if any(p.start <= now for p in pieces):
        handoff.sync_usergroup(ctx, cfg, handoff.current_people(ctx, offer.rotation, now))
    closed = messages.cover_closed_blocks(offer.rotation, offer.requester_id, pieces, user)
    for post in offer.posts:
        try:
            ctx.slack.chat_update(channel=post["channel"], ts=post["ts"], text=f"Taken by <@{user}>", blocks=closed)
        except Exception as exc:  # noqa: BLE001
            log.warning("cover %s: could not update the offer to %s: %s", offer.id, post.get("user"), exc)
    _tell(ctx, offer.requester_id, messages.cover_taken_dm(offer.rotation, pieces, taker=user,
                                                           requester=offer.requester_id, for_user=offer.requester_id))
    _tell(ctx, user, messages.cover_taken_dm(offer.rotation, pieces, taker=user, requester=offer.requester_id,
                                             for_user=user))
    return f":white_check_mark: Done: you cover <@{offer.requester_id}>'s *{offer.rotation}* time.", True


# -- health ----------------------------------------------------------------------------------------------------------

def _health(ctx: AppContext, cmd: OncallCommand, user: str) -> Reply:
    """The `firewatch report health` table, ephemeral; the PNG chart goes to the asker's DM (an ephemeral reply
    cannot carry a file)."""
    from bot.rotations.domain.health import parse_period

    name = pick_rotation(ctx, cmd.rotation, user, "health")
    cfg = service.rotation_config(ctx, name)
    period = cmd.args.get("period") or _this_quarter(cfg)
    try:
        start, end = parse_period(str(period))
    except ValueError as exc:
        raise RotationError(f"{exc} (`/oncall health {name} 2027-Q1`)") from None
    report = service.health(ctx, name, start, end, str(period))
    note = _upload_chart(ctx, report, user)
    return Reply(f"On-call health for {name}, {period}\n```{messages.safe(report.render())}```",
                 messages.health_blocks(report, note))


def _this_quarter(cfg) -> str:
    today = datetime.now(cfg.zone).date()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def _upload_chart(ctx: AppContext, report, user: str) -> str:
    """Upload the chart to the asker's DM; the note says where it went, or that it could not be sent."""
    import tempfile
    from pathlib import Path

    try:
        with tempfile.TemporaryDirectory() as tmp:
            png = report.chart_png(Path(tmp) / "health.png").read_bytes()
        dm = ctx.slack.conversations_open(users=user)["channel"]["id"]
        ctx.slack.files_upload_v2(
            channel=dm, content=png, filename=f"oncall-health-{report.rotation}-{report.period}.png",
            title=f"On-call health: {report.rotation}, {report.period}",
            alt_txt=f"Bar charts of night, weekend and holiday hours and burden against fair share per person in "
                    f"{report.rotation}, {report.period}"[:1000], request_file_info=False)
    except Exception as exc:  # noqa: BLE001 - the table is still useful without the chart
        log.warning("health chart for %s not sent: %s", report.rotation, exc)
        return "The chart could not be sent this time."
    return "The chart is in your DMs with Firewatch."


_HANDLERS = {"who": _who, "schedule": _schedule, "fairness": _fairness, "explain": _explain, "note": _note,
             "export": _export, "override": _override, "away": _away, "swap": _swap, "cover": _cover,
             "health": _health}


def usage_text(problem: str | None = None) -> str:
    return f":warning: {neutralize_mentions(problem)}\n\n{USAGE}" if problem else USAGE
