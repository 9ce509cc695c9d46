"""The page rows are the source of truth for due escalation steps: the leader's sweep continues a page whose step
is owed or timed out even when no job exists, and a DM whose outcome was never recorded is not sent twice.
In-process, on both backends."""

from __future__ import annotations

import time
from datetime import timedelta

from bot.paging.domain import escalation
from bot.paging import flows, store
from bot.paging.domain.escalation import Position
from bot.paging.messages import PageContent, parse_page_action_block_id
from storage.models import PageNotification, PageRecord
from storage.types import utcnow
from tests.conftest import BOB
from tests.paging.conftest import LEAD, PAYMENTS_CHANNEL, paging_config

USER_POLICY = {"name": "bob-then-lead", "channel": PAYMENTS_CHANNEL, "repeat": 1,
               "steps": [{"notify": f"user:{BOB}", "timeout": "30m"}, {"notify": f"user:{LEAD}", "timeout": "30m"}]}


def start(harness_factory):
    config = paging_config()
    config["escalation_policies"].append(USER_POLICY)
    h = harness_factory(config)
    h.fake.add_user(LEAD, "Lee")
    h.fake.add_channel(PAYMENTS_CHANNEL, "payments")
    return h


def wait_until(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)
    return value


def delivered(h, page_id: int, step_index: int) -> bool:
    with h.ctx.session() as s:
        row = s.get(PageRecord, page_id)
        return row.step_index == step_index and row.step_notified


def step_dms(fake, user: str) -> list[tuple[str, Position]]:
    """(page id, position) of every page DM `user` received."""
    out = []
    for call in fake.calls_to("chat.postMessage"):
        channel = fake.channels.get(call.params["channel"])
        if not channel or not call.params["channel"].startswith("D") or user not in channel["members"]:
            continue
        for block in call.params.get("blocks") or []:
            parsed = parse_page_action_block_id(block.get("block_id"))
            if parsed:
                out.append(parsed)
    return out


def new_page(h) -> int:
    page_id = flows.create_page(h.ctx, policy_name="bob-then-lead", content=PageContent(title="Disk full"),
                                requester=None, source="test", channel_id=None)
    assert step_dms(h.fake, BOB) == [(str(page_id), Position())]
    scheduler = h.ctx.services.scheduler
    scheduler.cancel(flows.timeout_job_id(page_id))  # as if the job was lost with a dying process
    return page_id


def test_a_step_committed_but_never_delivered_is_delivered_once_by_the_sweep(harness_factory):
    h = start(harness_factory)
    page_id = new_page(h)
    # The transition to step 2 commits, then the process "dies" before any DM or job: only the row knows.
    with h.ctx.session() as s:
        row = store.lock_page(s, page_id)
        policy = flows.policy_named(h.ctx, row.policy)
        result = escalation.escalate(store.to_page(row), policy, utcnow(), expected=Position())
        store.apply_page(row, result.page)
        flows._record_step_due(row, result.action, utcnow())
        s.add(row)
    assert flows.timeout_job_id(page_id) not in h.ctx.services.scheduler.job_ids()
    wait_until(lambda: delivered(h, page_id, 1))  # by the running leader's sweep
    with h.ctx.session() as s:
        row = s.get(PageRecord, page_id)
        assert row.step_notified and row.next_step_at > utcnow() + timedelta(minutes=25)
    flows.sweep_due(h.ctx)  # again: nothing owed
    assert step_dms(h.fake, LEAD) == [(str(page_id), Position(1, 1))]
    escalated = [c for c in h.fake.calls_to("chat.postMessage")
                 if "Nobody acknowledged in time; escalated" in (c.params.get("text") or "")]
    assert len(escalated) == 1


def test_a_timed_out_step_without_a_job_escalates_once(harness_factory):
    h = start(harness_factory)
    page_id = new_page(h)
    with h.ctx.session() as s:
        row = s.get(PageRecord, page_id)
        row.next_step_at = utcnow() - timedelta(seconds=1)  # its timeout passed while nobody ran the job
        s.add(row)
    wait_until(lambda: delivered(h, page_id, 1))
    flows.sweep_due(h.ctx)
    flows.on_step_timeout(h.ctx, page_id, 1, 0)  # the lost job turning up late: a no-op
    assert step_dms(h.fake, LEAD) == [(str(page_id), Position(1, 1))]
    with h.ctx.session() as s:
        assert (s.get(PageRecord, page_id).pass_number, s.get(PageRecord, page_id).step_index) == (1, 1)


def _owe_step_two_with_a_dm_in_flight(h, page_id: int) -> None:
    """Step 2 is owed and a DM to LEAD was started (intent recorded) by a process that then died."""
    with h.ctx.session() as s:
        row = store.lock_page(s, page_id)
        policy = flows.policy_named(h.ctx, row.policy)
        result = escalation.escalate(store.to_page(row), policy, utcnow(), expected=Position())
        store.apply_page(row, result.page)
        flows._record_step_due(row, result.action, utcnow())
        s.add(row)
        s.add(PageNotification(page_id=page_id, user_id=LEAD, pass_number=1, step_index=1, at=utcnow(),
                               error=flows.DM_IN_FLIGHT))


def test_a_dm_sent_but_not_recorded_is_found_in_slack_and_not_sent_again(harness_factory):
    h = start(harness_factory)
    page_id = new_page(h)
    h.ctx.services.scheduler.shutdown()  # this test runs the sweep itself
    _owe_step_two_with_a_dm_in_flight(h, page_id)
    # ...and Slack did receive that DM before the process died.
    channel = h.ctx.slack.conversations_open(users=LEAD)["channel"]["id"]
    content = PageContent(title="Disk full")
    policy = flows.policy_named(h.ctx, "bob-then-lead")
    action = escalation.action_at(policy, Position(1, 1))
    h.ctx.slack.chat_postMessage(channel=channel, **flows.messages.page_message(
        str(page_id), content, policy_name=policy.name, position=action.position, total_steps=2, repeat=1,
        target=action.target))
    assert flows.sweep_due(h.ctx) == 1
    assert step_dms(h.fake, LEAD) == [(str(page_id), Position(1, 1))]  # the one sent before the "crash"
    with h.ctx.session() as s:
        row = s.get(PageRecord, page_id)
        reached = [n for n in store.notifications(s, page_id) if n.user_id == LEAD and n.error is None]
    assert row.step_notified and len(reached) == 1 and reached[0].message_ts


def test_a_dm_started_but_never_sent_is_sent_once(harness_factory):
    h = start(harness_factory)
    page_id = new_page(h)
    h.ctx.services.scheduler.shutdown()
    _owe_step_two_with_a_dm_in_flight(h, page_id)  # died before Slack got it
    assert flows.sweep_due(h.ctx) == 1
    assert flows.sweep_due(h.ctx) == 0
    assert step_dms(h.fake, LEAD) == [(str(page_id), Position(1, 1))]
