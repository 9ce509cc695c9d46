"""Pure escalation logic: where a page is in its policy, what to do next, and the page state machine.

Nothing here reads the clock, the database or Slack. The scheduler asks `next_action` what to do when a timeout
expires, and Slack button handlers call `acknowledge` / `escalate` / `resolve`; each returns a new `Page` value
(the old one is untouched) plus what changed, so the caller stores it and sends the messages.

Idempotency matters because Slack retries, people double-click and scheduled jobs can fire late: acknowledging
an acknowledged page, resolving a resolved page and escalating from a position the page has already left are
no-ops (`changed=False`), not errors.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot.paging.domain.config import EscalationPolicyConfig, NotifyTarget


@dataclass(frozen=True, order=True)
class Position:
    """Where a page is in its policy: `pass_number` counts from 1, `step_index` from 0."""

    pass_number: int = 1
    step_index: int = 0

    def describe(self, policy: EscalationPolicyConfig) -> str:
        """`step 2 of 3, pass 1 of 2` for messages."""
        text = f"step {self.step_index + 1} of {len(policy.steps)}"
        return text + (f", pass {self.pass_number} of {policy.repeat}" if policy.repeat > 1 else "")


@dataclass(frozen=True)
class NotifyAction:
    """Notify `target` now; if nobody acknowledges within `timeout`, ask `next_action` again."""

    position: Position
    target: NotifyTarget
    timeout: timedelta

    def deadline(self, notified_at: datetime) -> datetime:
        """When this step's wait ends, given when the notification went out."""
        return notified_at + self.timeout


@dataclass(frozen=True)
class Exhausted:
    """Every step was tried `passes` times without an acknowledgement: stop paging and say so in the channel."""

    passes: int


def action_at(policy: EscalationPolicyConfig, position: Position) -> NotifyAction | Exhausted:
    """The action for `position` itself (Exhausted once past the last pass)."""
    if position.step_index < 0 or position.pass_number < 1:
        raise ValueError(f"invalid escalation position {position}")
    if position.step_index >= len(policy.steps):
        raise ValueError(f"policy {policy.name!r} has no step {position.step_index + 1}")
    if position.pass_number > policy.repeat:
        return Exhausted(passes=policy.repeat)
    step = policy.steps[position.step_index]
    return NotifyAction(position=position, target=step.target(), timeout=step.timeout)


def first_action(policy: EscalationPolicyConfig) -> NotifyAction:
    """What a new page does first: notify step 1 of pass 1."""
    action = action_at(policy, Position())
    assert isinstance(action, NotifyAction)  # the config guarantees steps and repeat >= 1
    return action


def next_action(policy: EscalationPolicyConfig, current: Position | None) -> NotifyAction | Exhausted:
    """What follows `current` (the step just notified; None for a new page).

    After the last step of a pass comes step 1 of the next pass; after the last pass, `Exhausted`.
    """
    if current is None:
        return first_action(policy)
    if current.step_index + 1 < len(policy.steps):
        return action_at(policy, Position(pass_number=current.pass_number, step_index=current.step_index + 1))
    if current.pass_number >= policy.repeat:
        return Exhausted(passes=policy.repeat)
    return action_at(policy, Position(pass_number=current.pass_number + 1, step_index=0))


def escalation_plan(policy: EscalationPolicyConfig) -> list[NotifyAction]:
    """Every notification a never-acknowledged page would send, in order (for previews and `config check`)."""
    plan: list[NotifyAction] = []
    action: NotifyAction | Exhausted = first_action(policy)
    while isinstance(action, NotifyAction):
        plan.append(action)
        action = next_action(policy, action.position)
    return plan


def total_timeout(policy: EscalationPolicyConfig) -> timedelta:
    """How long from the first notification until the policy is exhausted if nobody acknowledges."""
    return sum((a.timeout for a in escalation_plan(policy)), timedelta(0))


class PageState(str, enum.Enum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


# Allowed changes of state. Escalating an escalated page (to the next step) is a real change; the other
# same-state requests are no-ops. Escalating an acknowledged page is allowed: the responder asks for help.
_ALLOWED: dict[PageState, frozenset[PageState]] = {
    PageState.TRIGGERED: frozenset({PageState.ACKNOWLEDGED, PageState.ESCALATED, PageState.RESOLVED}),
    PageState.ESCALATED: frozenset({PageState.ACKNOWLEDGED, PageState.ESCALATED, PageState.RESOLVED}),
    PageState.ACKNOWLEDGED: frozenset({PageState.ESCALATED, PageState.RESOLVED}),
    PageState.RESOLVED: frozenset(),
}


class InvalidTransition(ValueError):
    """A request the page's state does not allow (anything but resolve after resolve). Message is user-facing."""


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    from_state: PageState | None  # None for the creation entry
    to_state: PageState
    actor: str | None  # Slack user id, or None for the scheduler / an alert
    note: str = ""


@dataclass(frozen=True)
class Page:
    """A page's paging state. Immutable: every operation returns a new Page."""

    id: str
    policy: str
    state: PageState = PageState.TRIGGERED
    position: Position = Position()
    exhausted: bool = False  # all passes done without an acknowledgement; no more notifications
    acknowledged_by: str | None = None
    history: tuple[HistoryEntry, ...] = field(default_factory=tuple)

    @property
    def open(self) -> bool:
        return self.state is not PageState.RESOLVED


@dataclass(frozen=True)
class TransitionResult:
    """Outcome of a request: the (possibly unchanged) page, whether it changed, a short reason, and for
    escalations the action to carry out (NotifyAction or Exhausted)."""

    page: Page
    changed: bool
    message: str
    action: NotifyAction | Exhausted | None = None


def new_page(
    page_id: str, policy: EscalationPolicyConfig, at: datetime, *, actor: str | None = None, note: str = ""
) -> tuple[Page, NotifyAction]:
    """Create a triggered page at step 1 of pass 1 and return it with the first notification to send."""
    action = first_action(policy)
    entry = HistoryEntry(at=at, from_state=None, to_state=PageState.TRIGGERED, actor=actor, note=note or "paged")
    page = Page(id=page_id, policy=policy.name, position=action.position, history=(entry,))
    return page, action


def transition(page: Page, to: PageState, at: datetime, *, actor: str | None = None, note: str = "") -> TransitionResult:
    """Validate and apply a change of state, recording it in the history.

    Same-state requests for acknowledged/resolved/triggered are no-ops (changed=False). Anything after resolved
    other than resolve raises InvalidTransition. Use `escalate` rather than this for escalations, since it also
    moves the position.
    """
    if page.state is to and to is not PageState.ESCALATED:
        return TransitionResult(page, False, f"page {page.id} is already {to.value}")
    if to not in _ALLOWED[page.state]:
        if page.state is PageState.RESOLVED:
            raise InvalidTransition(f"page {page.id} is already resolved; it cannot be {to.value} any more")
        raise InvalidTransition(f"page {page.id} cannot go from {page.state.value} to {to.value}")
    entry = HistoryEntry(at=at, from_state=page.state, to_state=to, actor=actor, note=note)
    updated = replace(page, state=to, history=page.history + (entry,))
    if to is PageState.ACKNOWLEDGED:
        updated = replace(updated, acknowledged_by=actor)
    return TransitionResult(updated, True, f"page {page.id} {to.value}")


def acknowledge(page: Page, at: datetime, actor: str | None, note: str = "") -> TransitionResult:
    """Someone takes the page; escalation stops. Idempotent."""
    return transition(page, PageState.ACKNOWLEDGED, at, actor=actor, note=note)


def resolve(page: Page, at: datetime, actor: str | None = None, note: str = "") -> TransitionResult:
    """The problem is over (a person, or a resolved alert with actor None). Final and idempotent."""
    return transition(page, PageState.RESOLVED, at, actor=actor, note=note)


def escalate(
    page: Page,
    policy: EscalationPolicyConfig,
    at: datetime,
    *,
    actor: str | None = None,
    expected: Position | None = None,
    note: str = "",
) -> TransitionResult:
    """Move to the next step (timeout expired, or someone pressed Escalate).

    `expected` is the position the caller believes the page is at (the scheduled job's step, or the step of the
    DM whose button was pressed). If the page has moved on since, the request is stale and a no-op; this is
    what makes double-clicks and late timers harmless. When the policy runs out, the page stays open, is
    marked `exhausted`, and the result's action is `Exhausted` exactly once.
    """
    if page.state is PageState.RESOLVED:
        return TransitionResult(page, False, f"page {page.id} is already resolved")
    if page.policy != policy.name:
        raise ValueError(f"page {page.id} follows policy {page.policy!r}, not {policy.name!r}")
    if expected is not None and expected != page.position:
        return TransitionResult(page, False, f"page {page.id} has already moved past {expected.describe(policy)}")
    if page.exhausted:
        return TransitionResult(page, False, f"page {page.id} has already been through every step")
    if page.state is PageState.ACKNOWLEDGED and actor is None:
        # A timer firing after someone acknowledged: the ack wins.
        return TransitionResult(page, False, f"page {page.id} is acknowledged; not escalating")

    action = next_action(policy, page.position)
    if isinstance(action, Exhausted):
        entry = HistoryEntry(
            at=at, from_state=page.state, to_state=page.state, actor=actor,
            note=note or f"nobody acknowledged after {action.passes} pass(es)",
        )
        updated = replace(page, exhausted=True, history=page.history + (entry,))
        return TransitionResult(updated, True, f"page {page.id}: escalation policy exhausted", action)

    result = transition(page, PageState.ESCALATED, at, actor=actor, note=note or f"to {action.target.describe()}")
    updated = replace(result.page, position=action.position, acknowledged_by=None)
    return TransitionResult(updated, True, f"page {page.id} escalated to {action.target.describe()}", action)
