"""Escalation steps, repeat exhaustion, and the page state machine."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.paging.domain.config import EscalationPolicyConfig, NotifyTarget
from bot.paging.domain.escalation import (
    Exhausted,
    InvalidTransition,
    NotifyAction,
    PageState,
    Position,
    acknowledge,
    action_at,
    escalate,
    escalation_plan,
    first_action,
    new_page,
    next_action,
    resolve,
    total_timeout,
    transition,
)

POLICY = EscalationPolicyConfig.model_validate(
    {
        "name": "payments",
        "steps": [
            {"notify": "rotation:payments", "timeout": "5m"},
            {"notify": "rotation:payments:secondary", "timeout": "10m"},
            {"notify": "user:U0LEAD", "timeout": "15m"},
        ],
        "repeat": 2,
    }
)
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_sequence_with_repeat_then_exhausted():
    seen = []
    action = next_action(POLICY, None)
    while isinstance(action, NotifyAction):
        seen.append((action.position.pass_number, action.position.step_index, action.target, action.timeout))
        action = next_action(POLICY, action.position)
    primary = NotifyTarget("rotation", "payments", "primary")
    secondary = NotifyTarget("rotation", "payments", "secondary")
    lead = NotifyTarget("user", "U0LEAD", "primary")
    five, ten, fifteen = timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=15)
    assert seen == [
        (1, 0, primary, five), (1, 1, secondary, ten), (1, 2, lead, fifteen),
        (2, 0, primary, five), (2, 1, secondary, ten), (2, 2, lead, fifteen),
    ]
    assert action == Exhausted(passes=2)


def test_single_pass_policy():
    policy = EscalationPolicyConfig(name="solo", steps=[{"notify": "user:U1AB", "timeout": "30s"}])
    first = first_action(policy)
    assert first.position == Position(pass_number=1, step_index=0)
    assert first.deadline(T0) == T0 + timedelta(seconds=30)
    assert next_action(policy, first.position) == Exhausted(passes=1)


def test_plan_and_total_timeout():
    assert len(escalation_plan(POLICY)) == 6
    assert total_timeout(POLICY) == timedelta(minutes=60)


def test_action_at_bounds():
    assert action_at(POLICY, Position(pass_number=3, step_index=0)) == Exhausted(passes=2)
    with pytest.raises(ValueError, match="has no step 4"):
        action_at(POLICY, Position(pass_number=1, step_index=3))
    with pytest.raises(ValueError, match="invalid escalation position"):
        action_at(POLICY, Position(pass_number=0, step_index=0))


def test_position_describe():
    assert Position(pass_number=2, step_index=1).describe(POLICY) == "step 2 of 3, pass 2 of 2"


def _walk_to_exhaustion(page):
    actions = []
    t = T0
    while True:
        t += timedelta(minutes=1)
        result = escalate(page, POLICY, t, expected=page.position)
        if not result.changed:
            return page, actions, result
        actions.append(result.action)
        page = result.page


def test_timer_driven_escalation_to_exhaustion():
    page, first = new_page("P1", POLICY, T0)
    assert page.state is PageState.TRIGGERED and first.position == Position()
    page, actions, last = _walk_to_exhaustion(page)
    # Five more notifications, then exactly one Exhausted; after that every escalate is a no-op.
    assert [type(a).__name__ for a in actions] == ["NotifyAction"] * 5 + ["Exhausted"]
    assert page.exhausted and page.state is PageState.ESCALATED and page.open
    assert page.position == Position(pass_number=2, step_index=2)
    assert last.message == "page P1 has already been through every step"
    assert page.history[-1].note == "nobody acknowledged after 2 pass(es)"
    # Still possible to acknowledge or resolve an exhausted page.
    assert acknowledge(page, T0, "U0LATE").page.state is PageState.ACKNOWLEDGED


def test_acknowledge_is_idempotent():
    page, _ = new_page("P1", POLICY, T0)
    first = acknowledge(page, T0 + timedelta(minutes=1), "U0AAA")
    assert first.changed and first.page.state is PageState.ACKNOWLEDGED
    assert first.page.acknowledged_by == "U0AAA"
    again = acknowledge(first.page, T0 + timedelta(minutes=2), "U0BBB")
    assert not again.changed
    assert again.page is first.page  # nothing recorded, first acknowledger kept
    assert again.message == "page P1 is already acknowledged"
    assert len(first.page.history) == 2


def test_resolve_is_final_and_idempotent():
    page, _ = new_page("P1", POLICY, T0)
    done = resolve(page, T0 + timedelta(minutes=3), None, note="alert resolved").page
    assert done.state is PageState.RESOLVED and not done.open
    assert not resolve(done, T0 + timedelta(minutes=4), "U0AAA").changed
    with pytest.raises(InvalidTransition, match="page P1 is already resolved; it cannot be acknowledged any more"):
        acknowledge(done, T0 + timedelta(minutes=5), "U0AAA")
    result = escalate(done, POLICY, T0 + timedelta(minutes=5), actor="U0AAA")
    assert not result.changed and result.message == "page P1 is already resolved"


def test_late_timer_after_ack_is_ignored_but_person_can_escalate():
    page, _ = new_page("P1", POLICY, T0)
    acked = acknowledge(page, T0 + timedelta(minutes=1), "U0AAA").page
    late = escalate(acked, POLICY, T0 + timedelta(minutes=5), expected=Position())
    assert not late.changed and late.page is acked
    help_ = escalate(acked, POLICY, T0 + timedelta(minutes=6), actor="U0AAA", expected=Position())
    assert help_.changed
    assert help_.page.state is PageState.ESCALATED
    assert help_.page.acknowledged_by is None
    assert help_.action.target == NotifyTarget("rotation", "payments", "secondary")


def test_double_click_escalate_is_a_noop():
    page, _ = new_page("P1", POLICY, T0)
    once = escalate(page, POLICY, T0, actor="U0AAA", expected=Position())
    twice = escalate(once.page, POLICY, T0, actor="U0AAA", expected=Position())
    assert once.changed and not twice.changed
    assert twice.page.position == Position(pass_number=1, step_index=1)
    assert twice.message == "page P1 has already moved past step 1 of 3, pass 1 of 2"


def test_history_records_transitions():
    page, _ = new_page("P9", POLICY, T0, note="alert Fire")
    page = escalate(page, POLICY, T0 + timedelta(minutes=5)).page
    page = acknowledge(page, T0 + timedelta(minutes=6), "U0BBB").page
    page = resolve(page, T0 + timedelta(minutes=30), "U0BBB", note="rolled back").page
    assert [(h.from_state, h.to_state, h.actor) for h in page.history] == [
        (None, PageState.TRIGGERED, None),
        (PageState.TRIGGERED, PageState.ESCALATED, None),
        (PageState.ESCALATED, PageState.ACKNOWLEDGED, "U0BBB"),
        (PageState.ACKNOWLEDGED, PageState.RESOLVED, "U0BBB"),
    ]
    assert page.history[0].note == "alert Fire"
    assert page.history[1].note == "to payments (secondary)"
    assert page.history[-1].note == "rolled back"
    assert page.history[-1].at == T0 + timedelta(minutes=30)


def test_invalid_transition_back_to_triggered():
    page, _ = new_page("P1", POLICY, T0)
    acked = acknowledge(page, T0, "U0AAA").page
    with pytest.raises(InvalidTransition, match="cannot go from acknowledged to triggered"):
        transition(acked, PageState.TRIGGERED, T0)


def test_wrong_policy_rejected():
    page, _ = new_page("P1", POLICY, T0)
    other = EscalationPolicyConfig(name="other", steps=[{"notify": "user:U1AB"}])
    with pytest.raises(ValueError, match="follows policy 'payments', not 'other'"):
        escalate(page, other, T0)


def test_page_is_immutable_between_steps():
    page, _ = new_page("P1", POLICY, T0)
    acknowledge(page, T0, "U0AAA")
    assert page.state is PageState.TRIGGERED and len(page.history) == 1
