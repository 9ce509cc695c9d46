"""`/page`, the Acknowledge and Escalate buttons, timeouts, exhaustion and the PagerDuty mirror."""

from __future__ import annotations

import json
import threading

import httpx
import respx

from bot.rotations import service as oncall
from bot.paging.domain.escalation import Position
from bot.paging.messages import page_action_block_id
from bot.paging.pagerduty import PagerDutyClient
from storage.models import PageRecord
from tests.conftest import BOB, REPORTER
from tests.paging.conftest import LEAD, PAYMENTS_CHANNEL, load


def dms_to(fake, user: str) -> list:
    out = []
    for c in fake.calls_to("chat.postMessage"):
        ch = fake.channels.get(c.params["channel"])
        if ch and c.params["channel"].startswith("D") and user in ch["members"] and not c.params.get("thread_ts"):
            out.append(c)
    return out


def page_state(h, page_id: int) -> PageRecord:
    with h.ctx.session() as s:
        return s.get(PageRecord, page_id)


def test_page_a_person_and_acknowledge_idempotently(paging):
    h = paging()
    r = h.sender.command("/page", f"<@{BOB}|bob> Checkout 500s, can you look?", user=REPORTER, channel="C0GENERAL")
    assert r.status_code == 200 and "Paging" in r.json()["text"]
    dm = h.fake.wait_for(lambda f: dms_to(f, BOB))[0]
    confirmation = h.wait_response("sent to")
    assert "Page `1`" in confirmation["text"]
    assert "Checkout 500s" in dm.params["text"]
    block = next(b for b in dm.params["blocks"] if b["type"] == "actions")

    # Two clicks at the same time, and a third later: one acknowledgement.
    clicks = [threading.Thread(target=h.sender.block_action, args=("page_ack", "1"),
                               kwargs={"user": BOB, "channel": dm.params["channel"], "message_ts": dm.response["ts"]})
              for _ in range(2)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    h.fake.wait_for(lambda f: f.calls_to("chat.update"))
    h.sender.block_action("page_ack", "1", user=BOB, channel=dm.params["channel"], message_ts=dm.response["ts"])
    h.wait_response("already acknowledged")
    page = page_state(h, 1)
    assert page.state == "acknowledged" and page.acknowledged_by == BOB
    assert [e["to"] for e in page.history] == ["triggered", "acknowledged"]
    # The channel is told after the DMs are closed, on the click's thread: wait for it, then count.
    h.fake.wait_for(lambda f: [c for c in f.calls_to("chat.postMessage") if "acknowledged page" in (c.params.get("text") or "")])
    acks = [c for c in h.fake.calls_to("chat.postMessage") if "acknowledged page" in (c.params.get("text") or "")]
    assert len(acks) == 1 and acks[0].params["channel"] == "C0GENERAL"
    assert "firewatch:poll-store" in h.ctx.services.scheduler.job_ids()
    assert "page:1:timeout" not in h.ctx.services.scheduler.job_ids()
    assert block["block_id"] == page_action_block_id("1", Position())


def test_page_usage_errors(paging):
    h = paging()
    for text, expected in (("", "say whom to page"), ("payments", "add a message"),
                           ("billing it is down", "unknown rotation `billing`")):
        r = h.sender.command("/page", text, user=REPORTER)
        assert expected in r.json()["text"], (text, r.json())
    assert h.fake.calls_to("conversations.open") == []


def test_timeout_escalates_then_exhausts_and_says_so(paging):
    h = paging(first_timeout="1s", second_timeout="1s")
    r = h.sender.command("/page", "payments Queue backlog growing", user=REPORTER, channel="C0GENERAL")
    assert r.status_code == 200
    oncall_user = oncall.on_call(h.ctx, "payments")
    h.fake.wait_for(lambda f: dms_to(f, oncall_user))
    h.fake.wait_for(lambda f: dms_to(f, LEAD), timeout=15)
    said = h.fake.wait_for(lambda f: [c for c in f.calls_to("chat.postMessage")
                                      if "Nobody acknowledged page" in (c.params.get("text") or "")], timeout=15)
    h.fake.wait_for(lambda f: len([c for c in f.calls_to("chat.postMessage")
                                   if "Nobody acknowledged page" in (c.params.get("text") or "")]) == 2)
    said = [c for c in h.fake.calls_to("chat.postMessage") if "Nobody acknowledged page" in (c.params.get("text") or "")]
    assert {c.params["channel"] for c in said} == {"C0GENERAL", PAYMENTS_CHANNEL}
    page = page_state(h, 1)
    assert page.exhausted and page.state == "escalated"
    escalated = [c for c in h.fake.calls_to("chat.postMessage") if "escalated page" in (c.params.get("text") or "")]
    assert len(escalated) == 1


def test_escalate_button_moves_on_and_stale_click_is_a_noop(paging):
    h = paging()
    h.sender.command("/page", "payments Latency high", user=REPORTER, channel="C0GENERAL")
    oncall_user = oncall.on_call(h.ctx, "payments")
    dm = h.fake.wait_for(lambda f: dms_to(f, oncall_user))[0]
    block_id = next(b for b in dm.params["blocks"] if b["type"] == "actions")["block_id"]

    def click():
        payload = {"type": "block_actions", "user": {"id": oncall_user}, "response_url": h.sender.response_url,
                   "trigger_id": "1.2.3", "container": {"type": "message", "channel_id": dm.params["channel"]},
                   "channel": {"id": dm.params["channel"]},
                   "actions": [{"type": "button", "action_id": "page_escalate", "block_id": block_id, "value": "1"}]}
        return h.sender.interaction(payload)

    assert click().status_code == 200
    h.fake.wait_for(lambda f: dms_to(f, LEAD))
    assert click().status_code == 200  # the same button again: the page has moved past that step
    h.wait_response("already moved past")
    page = page_state(h, 1)
    assert (page.pass_number, page.step_index) == (1, 1)
    assert len(dms_to(h.fake, LEAD)) == 1


def test_pagerduty_mirror_trigger_ack_resolve(paging, monkeypatch):
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", "R0UTINGKEY0000000000000000000000")
    router = respx.Router(assert_all_called=False)
    route = router.post("https://events.pagerduty.invalid/v2/enqueue").mock(
        return_value=httpx.Response(202, json=load("pagerduty_enqueue_202_response.json")))
    h = paging()
    h.ctx.config.escalation_policies[0].pagerduty = type(h.ctx.config.escalation_policies[0]).model_fields[
        "pagerduty"].annotation.__args__[0](routing_key_env="PAGERDUTY_ROUTING_KEY")
    http = httpx.Client(transport=httpx.MockTransport(router.handler))
    h.ctx.services.pagerduty_factory = lambda key: PagerDutyClient(
        key, client=http, base_url="https://events.pagerduty.invalid", sleep=lambda s: None)
    h.sender.command("/page", "payments Disk filling up", user=REPORTER, channel="C0GENERAL")
    oncall_user = oncall.on_call(h.ctx, "payments")
    dm = h.fake.wait_for(lambda f: dms_to(f, oncall_user))[0]
    h.sender.block_action("page_ack", "1", user=oncall_user, channel=dm.params["channel"], message_ts=dm.response["ts"])
    from bot.paging import flows

    h.fake.wait_for(lambda f: page_state(h, 1).state == "acknowledged")
    h.fake.wait_for(lambda f: len(route.calls) == 2)  # the acknowledgement was mirrored
    flows.resolve(h.ctx, 1, actor=oncall_user, note="fixed")
    h.fake.wait_for(lambda f: (page_state(h, 1).pagerduty_status or "").startswith("resolve"))
    bodies = [json.loads(c.request.content) for c in route.calls]
    assert [b["event_action"] for b in bodies] == ["trigger", "acknowledge", "resolve"]
    assert {b["dedup_key"] for b in bodies} == {"firewatch-page-1"}
    assert bodies[0]["payload"]["summary"] == "Disk filling up" and bodies[0]["routing_key"].startswith("R0UTING")
    assert page_state(h, 1).pagerduty_status.startswith("resolve: ok")


def test_pagerduty_outage_never_blocks_the_slack_page(paging, monkeypatch):
    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", "R0UTINGKEY0000000000000000000000")
    router = respx.Router(assert_all_called=False)
    route = router.post("https://events.pagerduty.invalid/v2/enqueue").mock(side_effect=httpx.ConnectError("down"))
    h = paging()
    policy = h.ctx.config.escalation_policies[0]
    policy.pagerduty = type(policy).model_fields["pagerduty"].annotation.__args__[0](routing_key_env="PAGERDUTY_ROUTING_KEY")
    http = httpx.Client(transport=httpx.MockTransport(router.handler))
    h.ctx.services.pagerduty_factory = lambda key: PagerDutyClient(
        key, client=http, base_url="https://events.pagerduty.invalid", sleep=lambda s: None)
    h.sender.command("/page", "payments Everything slow", user=REPORTER, channel="C0GENERAL")
    oncall_user = oncall.on_call(h.ctx, "payments")
    h.fake.wait_for(lambda f: dms_to(f, oncall_user))
    h.fake.wait_for(lambda f: page_state(h, 1).pagerduty_status)
    assert route.called
    assert page_state(h, 1).pagerduty_status.startswith("trigger: failed")
    assert page_state(h, 1).state == "triggered"  # the Slack page stands, whatever PagerDuty did


def test_a_slack_outage_retries_the_step_instead_of_rushing_the_escalation(paging):
    from bot import jobs

    h = paging()
    # conversations.open answers 503 three times: the client's own retries run out, the DM is not delivered.
    h.fake.fail("conversations.open", status=503, times=3)
    h.sender.command("/page", f"<@{BOB}> Disk full on db-1", user=REPORTER, channel="C0GENERAL")
    h.wait_response("sent to")
    h.fake.wait_for(lambda f: any("retrying in 30 s" in (c.params.get("text") or "") for c in f.calls_to("chat.postMessage")))
    page = page_state(h, 1)
    assert (page.state, page.pass_number, page.step_index, page.exhausted) == ("triggered", 1, 0, False)
    scheduler = h.ctx.services.scheduler
    assert {"page:1:timeout", "page:1:retry"} <= set(scheduler.job_ids())
    timeout_at = scheduler.aps.get_job("page:1:timeout").next_run_time
    assert (timeout_at - page.created_at).total_seconds() > 60  # the step's own 5-minute wait, not "move on now"

    jobs.page_retry(1, 1, 0)  # what the scheduler runs 30 s later, when Slack is back
    assert dms_to(h.fake, BOB)
    assert any("reached" in (c.params.get("text") or "") and "on a retry" in c.params["text"]
               for c in h.fake.calls_to("chat.postMessage"))
    jobs.page_retry(1, 1, 0)  # a second run finds everyone reached: nothing more is sent
    assert len(dms_to(h.fake, BOB)) == 1


def test_pagerduty_events_keep_their_order_when_pagerduty_is_slow(paging, monkeypatch):
    """A slow trigger must not be overtaken by its own resolve (that would re-open the incident in PagerDuty)."""
    import time

    from bot.paging import flows

    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", "R0UTINGKEY0000000000000000000000")
    sent: list[str] = []

    def slow_first(request):
        body = json.loads(request.content)
        if body["event_action"] == "trigger":
            time.sleep(0.5)
        sent.append(body["event_action"])
        return httpx.Response(202, json=load("pagerduty_enqueue_202_response.json"))

    router = respx.Router(assert_all_called=False)
    route = router.post("https://events.pagerduty.invalid/v2/enqueue").mock(side_effect=slow_first)
    h = paging()
    policy = h.ctx.config.escalation_policies[0]
    policy.pagerduty = type(policy).model_fields["pagerduty"].annotation.__args__[0](routing_key_env="PAGERDUTY_ROUTING_KEY")
    http = httpx.Client(transport=httpx.MockTransport(router.handler))
    h.ctx.services.pagerduty_factory = lambda key: PagerDutyClient(
        key, client=http, base_url="https://events.pagerduty.invalid", sleep=lambda s: None)
    h.sender.command("/page", "payments Queue stuck", user=REPORTER, channel="C0GENERAL")
    h.fake.wait_for(lambda f: page_state(h, 1) is not None and page_state(h, 1).history)
    flows.resolve(h.ctx, 1, actor=REPORTER, note="false alarm")
    h.fake.wait_for(lambda f: len(sent) == 2)
    assert route.call_count == 2 and sent == ["trigger", "resolve"]
    h.fake.wait_for(lambda f: (page_state(h, 1).pagerduty_status or "").startswith("resolve: ok"))


def test_stopping_the_app_sends_the_queued_pagerduty_events_first(paging, monkeypatch):
    """Stop joins the mirror only after it has sent what was queued: a resolve queued behind a slow trigger is not
    lost at shutdown (the wake-up sentinel goes on the queue after it)."""
    from bot.paging import flows

    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", "R0UTINGKEY0000000000000000000000")
    sent: list[str] = []
    trigger_in_flight, release_trigger = threading.Event(), threading.Event()

    def held_trigger(request):
        body = json.loads(request.content)
        if body["event_action"] == "trigger":
            trigger_in_flight.set()
            release_trigger.wait(10)
        sent.append(body["event_action"])
        return httpx.Response(202, json=load("pagerduty_enqueue_202_response.json"))

    router = respx.Router(assert_all_called=False)
    router.post("https://events.pagerduty.invalid/v2/enqueue").mock(side_effect=held_trigger)
    h = paging()
    policy = h.ctx.config.escalation_policies[0]
    policy.pagerduty = type(policy).model_fields["pagerduty"].annotation.__args__[0](routing_key_env="PAGERDUTY_ROUTING_KEY")
    http = httpx.Client(transport=httpx.MockTransport(router.handler))
    h.ctx.services.pagerduty_factory = lambda key: PagerDutyClient(
        key, client=http, base_url="https://events.pagerduty.invalid", sleep=lambda s: None)
    h.sender.command("/page", "payments Queue stuck", user=REPORTER, channel="C0GENERAL")
    assert trigger_in_flight.wait(10)
    flows.resolve(h.ctx, 1, actor=REPORTER, note="false alarm")  # queued behind the held trigger

    left: list[list[str]] = []
    stopper = threading.Thread(target=lambda: left.append(h.ctx.background.stop(timeout=15)))
    stopper.start()
    release_trigger.set()
    stopper.join(20)
    assert left == [[]]  # every background thread finished within the deadline
    assert sent == ["trigger", "resolve"]  # ...and the mirror sent the queued resolve before it ended
    assert page_state(h, 1).pagerduty_status.startswith("resolve: ok")
    assert "pagerduty-mirror" not in h.ctx.background.running()
