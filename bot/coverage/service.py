"""Coverage use cases: find the problems of the next 14 days (gaps, policies reaching nobody, on-call people
without a working contact method), post each rotation's set to its channel unless it was the last one posted,
and simulate the notifications of an alert without sending anything.

Nothing here changes a schedule: rotations are read as published shifts plus the plan beyond them, with overrides
and PTO, without publishing anything."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.context import AppContext
from bot.core.slack_errors import slack_error_code
from bot.coverage import domain, messages, store
from bot.coverage.domain import WINDOW, Notice, Piece, Problem
from bot.paging.domain.config import AlertRouteConfig, EscalationPolicyConfig, NotifyTarget
from bot.paging.domain.routing import policy_for_route, route_for
from bot.rotations.domain import PRIMARY, SECONDARY, on_call_at, plan_window
from storage.types import utcnow

log = logging.getLogger(__name__)
JOB_ID = "coverage:daily"
JOB_REFERENCE = "bot.coverage.jobs:daily_check"
DAY_SECONDS = 24 * 3600
# The start-up check waits this long: the app finishes starting (handoffs publish the horizon, the first pages
# go out) before the planner runs again for the check.
STARTUP_DELAY_SECONDS = 60
_UNKNOWN_USER_ERRORS = {"user_not_found", "user_not_visible", "account_inactive"}
_CHECKING = threading.Lock()


class _People:
    """Per-run answers about people (one Slack lookup each): known to Slack, and contact-method problems."""

    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self._known: dict[str, bool] = {}
        self._reason: dict[str, str | None] = {}

    def slack_known(self, user: str) -> bool:
        if user not in self._known:
            self._known[user] = slack_known(self.ctx, user)
        return self._known[user]

    def reason(self, user: str) -> str | None:
        from bot.contacts.service import contact_problem

        if user not in self._reason:
            self._reason[user] = contact_problem(self.ctx, user)
        return self._reason[user]

    def reachable(self, user: str) -> bool:
        return self.slack_known(user) or self.reason(user) is None


def slack_known(ctx: AppContext, user: str) -> bool:
    """Whether a Slack DM can reach `user`: Slack knows them and they are not deactivated. Without a Slack client
    (the CLI without SLACK_BOT_TOKEN) nobody is known; a transient Slack error counts as known (logged)."""
    if ctx.slack is None:
        return False
    try:
        info = ctx.slack.users_info(user=user)
    except Exception as exc:  # noqa: BLE001 - classified below
        code = slack_error_code(exc)
        if code in _UNKNOWN_USER_ERRORS:
            return False
        log.warning("coverage: could not look up %s in Slack (%s); counting Slack as working", user, code)
        return True
    person = info.get("user") or {}
    return not person.get("deleted")


# -- the check ---------------------------------------------------------------------------------------------------

def find_problems(ctx: AppContext, now: datetime | None = None) -> list[Problem]:
    """Every coverage problem of [now, now + 14 days), rotations in file order, then policies."""
    now = now or utcnow()
    end = now + WINDOW
    people = _People(ctx)
    pieces: dict[tuple[str, str], list[Piece]] = {}
    problems: list[Problem] = []
    for rotation in ctx.config.rotations:
        problems += _rotation_problems(ctx, rotation, now, end, pieces, people)
    names = [r.name for r in ctx.config.rotations]
    for policy in ctx.config.escalation_policies:
        spans = domain.unreached_spans(policy, pieces, people.reachable, now, end)
        problems += domain.policy_problems(policy, spans, names)
    return problems


def _rotation_problems(ctx: AppContext, rotation, now: datetime, end: datetime,
                       pieces: dict[tuple[str, str], list[Piece]], people: _People) -> list[Problem]:
    shifts, effective = planned_shifts(ctx, rotation, now, end)
    away = domain.away_spans(effective)
    problems: list[Problem] = []
    oncall: dict[str, datetime] = {}
    for role in [PRIMARY, *([SECONDARY] if rotation.secondary else [])]:
        role_pieces = domain.effective_pieces(shifts, role, away, now, end)
        pieces[(rotation.name, role)] = role_pieces
        problems += domain.gap_problems(rotation, role, role_pieces)
        for p in role_pieces:
            if p.user and (p.user not in oncall or p.start < oncall[p.user]):
                oncall[p.user] = p.start
    reasons = {u: people.reason(u) for u in oncall}
    known = {u: people.slack_known(u) for u in oncall if reasons[u] is not None}
    return problems + domain.contact_problems(rotation.name, oncall, reasons, known)


def planned_shifts(ctx: AppContext, rotation, start: datetime, end: datetime):
    """(shifts over [start, end), the rotation with Slack PTO): published shifts, the plan beyond them and
    overrides, read without publishing anything (a check must not freeze a schedule)."""
    from bot.rotations import service as rotations

    effective, inputs = rotations.stored_inputs(ctx.settings.database_url, rotation, start)
    window_start = min([start, *[f.start for f in inputs["frozen"]]])
    plan = plan_window(effective, window_start, max(end, start + timedelta(hours=1)), **inputs)
    return [sh for sh in plan.shifts if sh.end > start and sh.start < end], effective


@dataclass(frozen=True)
class ScopeResult:
    scope: str
    channel: str | None
    problems: list[Problem]
    posted: bool
    note: str = ""


def run_coverage_check(ctx: AppContext, rotation: str | None = None, now: datetime | None = None
                       ) -> list[ScopeResult]:
    """Check coverage and post each rotation's new problem set to its channel (`rotation`: only that one's).

    Call after anything that changes a roster (override, swap, away) and at start-up; the daily job calls it too.
    A set equal to the last one posted for the rotation is not posted again; an emptied set posts "all clear"."""
    now = now or utcnow()
    with _CHECKING:  # one check at a time in this process: two at once could both post the same new set
        return _check_and_post(ctx, rotation, now)


def _check_and_post(ctx: AppContext, rotation: str | None, now: datetime) -> list[ScopeResult]:
    problems = find_problems(ctx, now)
    grouped: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        grouped[p.scope].append(p)
    scopes = [r.name for r in ctx.config.rotations] + sorted(s for s in grouped if s.startswith("policy:"))
    if rotation is not None:
        scopes = [s for s in scopes if s == rotation]
    return [_post_scope(ctx, scope, grouped.get(scope, []), now) for scope in scopes]


def _channel_of(ctx: AppContext, scope: str) -> str | None:
    if scope.startswith("policy:"):
        policy = ctx.config.policy(scope.split(":", 1)[1])
        return policy.channel if policy else None
    rotation = ctx.config.rotation(scope)
    return rotation.channel if rotation else None


def _post_scope(ctx: AppContext, scope: str, problems: list[Problem], now: datetime) -> ScopeResult:
    channel = _channel_of(ctx, scope)
    print_ = domain.fingerprint(problems, now, now + WINDOW)
    with ctx.session() as s:
        last = store.last_report(s, scope)
        previous = (last.fingerprint, last.problem_count) if last else None
    if previous is not None and previous[0] == print_:
        return ScopeResult(scope, channel, problems, False, "same problems as last posted")
    if not problems and (previous is None or previous[1] == 0):
        with ctx.session() as s:
            store.remember(s, scope, print_, 0, now)
        return ScopeResult(scope, channel, problems, False, "no problems")
    if channel is None:
        return ScopeResult(scope, None, problems, False, "no channel configured")
    text, blocks = messages.report(scope, problems, had_problems=bool(previous and previous[1]))
    try:
        ctx.slack.chat_postMessage(channel=channel, text=text, blocks=blocks)
    except Exception as exc:  # noqa: BLE001 - not remembered, so the next check posts it again
        log.warning("coverage: could not post %s's report to %s (%s)", scope, channel, slack_error_code(exc))
        return ScopeResult(scope, channel, problems, False, f"Slack refused the post ({slack_error_code(exc)})")
    with ctx.session() as s:
        store.remember(s, scope, print_, len(problems), now)
    return ScopeResult(scope, channel, problems, True)


def schedule_daily(ctx: AppContext, when: datetime | None = None) -> bool:
    """(Re)schedule the check on the scheduler leader at `when` (default: the start-up check, shortly after now)."""
    scheduler = ctx.services.scheduler
    if scheduler is None or not getattr(scheduler, "started", False):
        return False
    when = when or utcnow() + timedelta(seconds=STARTUP_DELAY_SECONDS)
    scheduler.at(JOB_ID, when, JOB_REFERENCE, (), grace=None)
    return True


def daily_check(ctx: AppContext) -> None:
    """The job: check every rotation, then schedule the next run a day later (even if this one failed)."""
    try:
        run_coverage_check(ctx)
    finally:
        schedule_daily(ctx, utcnow() + timedelta(seconds=DAY_SECONDS))


def on_roster_changed(ctx: AppContext, rotation: str | None = None) -> None:
    """Hook for roster changes (override, swap, away): checks off the request thread, so the change is answered
    at once; a failing check never fails the change (it is logged, and the daily check runs anyway)."""
    try:
        ctx.background.start(f"coverage-check:{rotation or 'all'}", run_coverage_check, ctx, rotation,
                             failure=f"coverage: check after a roster change of {rotation or 'a rotation'} failed")
    except RuntimeError:
        log.info("coverage: app stopping; check after the roster change of %s left to the daily run", rotation)


# -- simulate ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Simulation:
    labels: dict[str, str]
    route: AlertRouteConfig | None
    fallback_channel: str | None
    notices: list[Notice]
    policy: EscalationPolicyConfig | None = None  # the policy the route pages (a service's, an ad-hoc one)


def simulate_alert(ctx: AppContext, labels: dict[str, str], at: datetime | None = None) -> Simulation:
    """Who an alert with `labels` raised at `at` would notify, how and when; nothing is sent."""
    from bot.contacts.service import plan_for

    at = at or utcnow()
    from bot.paging.flows import policy_named

    cfg = ctx.config
    route = route_for(labels, cfg.alert_routes, cfg.services, cfg.escalation_policies)
    policy_name = policy_for_route(route, cfg.services, cfg.escalation_policies) if route is not None else None
    policy = policy_named(ctx, policy_name) if policy_name else None
    if route is None or policy is None:
        return Simulation(labels, None, ctx.config.webhooks.fallback_channel, [])
    plans: dict[str, list] = {}

    def steps_for(user: str):
        if user not in plans:
            plans[user] = plan_for(ctx, user)
        return plans[user]

    notices = domain.simulate(policy, at, lambda target, when: _holder(ctx, target, when), steps_for)
    return Simulation(labels, route, ctx.config.webhooks.fallback_channel, notices, policy)


def _holder(ctx: AppContext, target: NotifyTarget, at: datetime) -> str | None:
    """Who a step reaches at `at`: the user, or whoever holds the rotation role then (and is not away)."""
    if target.kind == "user":
        return target.name
    rotation = ctx.config.rotation(target.name)
    if rotation is None or (target.role == SECONDARY and not rotation.secondary):
        return None
    shifts, effective = planned_shifts(ctx, rotation, at, at + timedelta(hours=1))
    shift = on_call_at(shifts, at, target.role)
    if shift is None:
        return None
    away = domain.away_spans(effective)
    pieces = domain.effective_pieces([shift], target.role, away, at, at + timedelta(seconds=1))
    return pieces[0].user if pieces else None
