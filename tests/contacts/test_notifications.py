"""Notification rules end to end on the fake Slack and the Twilio stand-in: a page reaches Ana in Slack, then
push at once, SMS at 1 m, a call at 3 m; a signed "press 1" acknowledges and cancels the rest; unsigned is refused."""

from __future__ import annotations

import httpx
import respx
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from bot.contacts import jobs, routes, service
from bot.paging import flows
from bot.paging.messages import PageContent
from storage.models import PageRecord
from storage.tables_contacts import NotificationAttempt
from tests.conftest import ALICE
from tests.contacts.conftest import ANA, AUTH_TOKEN, PUBLIC_URL, T0, contacts_config

PUSH_URL = "https://ntfy.example.com/ana-7f3a"


def open_page(ctx, title="Checkout 500s above 5%") -> int:
    """A real page through paging (its DM reaches Ana, which runs the page_reached hook)."""
    return flows.create_page(ctx, policy_name="payments", content=PageContent(title=title, severity="sev2"),
                             requester=None, source="alertmanager", channel_id=None)


def run_due(ctx, until):
    """Run the recorded contact jobs due by `until`, as APScheduler would (by textual reference)."""
    scheduler = ctx.services.scheduler
    for job_id, (when, func, args) in sorted(scheduler.jobs.items(), key=lambda kv: kv[1][0]):
        if job_id.startswith("contacts:") and when <= until:
            assert func == "bot.contacts.jobs:notify_step"
            del scheduler.jobs[job_id]
            jobs.notify_step(*args)


def attempts(ctx, page_id):
    with ctx.session() as s:
        rows = s.exec(select(NotificationAttempt).where(NotificationAttempt.page_id == page_id)
                      .order_by(NotificationAttempt.id))
        return [(a.method, a.result, a.step_index) for a in rows]


def voice_client(ctx) -> TestClient:
    return TestClient(Starlette(routes=routes.voice_routes(ctx)), base_url=PUBLIC_URL)


def press(client, page_id, call_sid, digits, *, sign=True, token=AUTH_TOKEN):
    url = f"{PUBLIC_URL}/webhooks/twilio/voice?page={page_id}&user={ANA}"
    form = {"CallSid": call_sid, "Digits": digits, "AccountSid": "AC" + "1" * 32}
    headers = {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)} if sign else {}
    return client.post(f"/webhooks/twilio/voice?page={page_id}&user={ANA}", data=form, headers=headers)


@respx.mock(assert_all_mocked=False, assert_all_called=False)
def test_push_now_sms_at_1m_call_at_3m_and_press_1_acknowledges_and_cancels(respx_mock, contacts_ctx, twilio):
    respx_mock.route(host="127.0.0.1").pass_through()
    push = respx_mock.post(PUSH_URL).mock(return_value=httpx.Response(200, json={"id": "x"}))
    person = contacts_config()["contacts"][0]
    person["rules"].append({"after": "10m", "via": ["email"]})  # still owed when Ana presses 1
    ctx = contacts_ctx(contacts=[person])
    page_id = open_page(ctx)
    scheduled = {jid: when for jid, (when, _f, _a) in ctx.services.scheduler.jobs.items() if jid.startswith("contacts:")}
    base = min(scheduled.values())
    assert sorted((w - base).total_seconds() for w in scheduled.values()) == [0, 60, 180, 600]

    run_due(ctx, base)  # t = 0: push only
    assert push.call_count == 1 and "Checkout 500s" in push.calls[0].request.headers["Title"]
    assert twilio.requests == []
    run_due(ctx, scheduled[service.job_id(page_id, ANA, 1)])  # 1 m: the SMS
    assert [r["kind"] for r in twilio.requests] == ["Messages"]
    sms = twilio.requests[0]["form"]
    assert sms["To"] == "+447700900123" and sms["From"] == "+15005550006" and "Checkout 500s" in sms["Body"]
    run_due(ctx, scheduled[service.job_id(page_id, ANA, 2)])  # 3 m: the call
    call = twilio.of("Calls")[0]
    assert "<Gather" in call["form"]["Twiml"] and "Press 1 to acknowledge, 2 to escalate" in call["form"]["Twiml"]
    assert f"{PUBLIC_URL}/webhooks/twilio/voice?page={page_id}" in call["form"]["Twiml"].replace("&amp;", "&")
    assert attempts(ctx, page_id) == [("push", "sent", 0), ("sms", "sent", 1), ("voice", "sent", 2)]
    summary = service.page_attempts_text(ctx, page_id)
    assert summary.startswith(f"push to <@{ANA}> `https://ntfy.example.com/…` sent <!date^")
    assert f"SMS to <@{ANA}> `…0123` sent" in summary and f"call to <@{ANA}> `…0123` sent" in summary

    answer = press(voice_client(ctx), page_id, call["sid"], "1")
    assert answer.status_code == 200 and "Acknowledged" in answer.text and "<Say>" in answer.text
    with ctx.session() as s:
        page = s.get(PageRecord, page_id)
        assert page.state == "acknowledged" and page.acknowledged_by == ANA
    assert not [j for j in ctx.services.scheduler.job_ids() if j.startswith(f"contacts:{page_id}:")]  # email cancelled
    assert "acknowledged" in press(voice_client(ctx), page_id, call["sid"], "1").text  # a second press changes nothing


def test_acknowledged_page_cancels_remaining_steps_and_late_jobs_send_nothing(contacts_ctx, twilio):
    ctx = contacts_ctx()
    page_id = open_page(ctx)
    sms_job = service.job_id(page_id, ANA, 1)
    when, _func, args = ctx.services.scheduler.jobs[sms_job]
    flows.acknowledge(ctx, page_id, ANA)  # from Slack: paging runs the page_closed hook
    service.on_page_closed(ctx, page_id, "acknowledged")  # idempotent if paging already did
    assert not [j for j in ctx.services.scheduler.job_ids() if j.startswith(f"contacts:{page_id}:")]
    jobs.notify_step(*args)  # a job that fired anyway (already submitted) re-checks the page
    assert twilio.requests == [] and attempts(ctx, page_id) == []


def test_unsigned_or_wrongly_signed_key_press_is_refused_and_changes_nothing(contacts_ctx, twilio):
    ctx = contacts_ctx()
    page_id = open_page(ctx)
    client = voice_client(ctx)
    assert press(client, page_id, "CA1", "1", sign=False).status_code == 403
    assert press(client, page_id, "CA1", "1", token="not-the-token").status_code == 403
    with ctx.session() as s:
        assert s.get(PageRecord, page_id).state == "triggered"


def test_signed_press_for_a_call_we_never_placed_does_nothing(contacts_ctx, twilio):
    ctx = contacts_ctx()
    page_id = open_page(ctx)
    answer = press(voice_client(ctx), page_id, "CA" + "9" * 32, "1")
    assert answer.status_code == 200 and "does not belong" in answer.text
    with ctx.session() as s:
        assert s.get(PageRecord, page_id).state == "triggered"


def test_twilio_not_configured_is_a_recorded_failure_not_a_crash(contacts_ctx, monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    ctx = contacts_ctx()
    page_id = open_page(ctx)
    results = service.run_step(ctx, page_id, ANA, 1, now=T0)
    assert [r.ok for r in results] == [False] and "set TWILIO_ACCOUNT_SID" in results[0].detail
    assert attempts(ctx, page_id) == [("sms", "failed", 1)]
    assert service.run_step(ctx, page_id, ANA, 1, now=T0) == []  # a re-run does not try again


@respx.mock(assert_all_mocked=False, assert_all_called=False)
def test_a_private_incidents_page_says_only_that_there_is_one(respx_mock, contacts_ctx, twilio):
    from storage.models import Incident

    respx_mock.route(host="127.0.0.1").pass_through()
    push = respx_mock.post(PUSH_URL).mock(return_value=httpx.Response(200))
    ctx = contacts_ctx()
    with ctx.session() as s:
        incident = Incident(number=77, title="Breach of customer data", severity="sev1", private=True)
        s.add(incident)
        s.flush()
        incident_id = incident.id
    page_id = flows.create_page(ctx, policy_name="payments", content=PageContent(title="Breach of customer data"),
                                requester=None, source="slack", channel_id=None, incident_id=incident_id)
    service.run_step(ctx, page_id, ANA, 0)
    service.run_step(ctx, page_id, ANA, 1)
    sent = [push.calls[0].request.content.decode(), push.calls[0].request.headers["Title"],
            twilio.of("Messages")[0]["form"]["Body"]]
    assert all("Breach" not in text for text in sent)
    assert "private incident" in sent[0] and f"page {page_id}" in sent[2]


def test_press_2_escalates_and_wrong_twilio_credentials_are_a_recorded_failure(contacts_ctx, twilio, monkeypatch):
    policy = {"name": "payments", "channel": "C0PAYMENTS", "steps": [{"notify": f"user:{ANA}", "timeout": "30m"},
                                                                     {"notify": f"user:{ALICE}", "timeout": "30m"}]}
    ctx = contacts_ctx(escalation_policies=[policy])
    page_id = open_page(ctx)
    (call,) = service.run_step(ctx, page_id, ANA, 2)
    assert call.ok and call.external_id.startswith("CA")
    answer = press(voice_client(ctx), page_id, call.external_id, "2")
    assert answer.status_code == 200 and "<Say>" in answer.text and "Goodbye" in answer.text
    with ctx.session() as s:
        assert s.get(PageRecord, page_id).state == "escalated"

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong-token")
    (sms,) = service.run_step(ctx, page_id, ANA, 1)
    assert not sms.ok and "Authenticate" in sms.detail
    assert attempts(ctx, page_id)[-1] == ("sms", "failed", 1)


def test_a_repeating_policy_wakes_the_person_again_on_its_next_pass(contacts_ctx, twilio):
    policy = {"name": "payments", "channel": "C0PAYMENTS", "repeat": 2,
              "steps": [{"notify": f"user:{ANA}", "timeout": "30m"}]}
    ctx = contacts_ctx(escalation_policies=[policy])
    page_id = open_page(ctx)
    service.run_step(ctx, page_id, ANA, 1)
    assert len(twilio.of("Messages")) == 1
    flows.escalate(ctx, page_id, ALICE, None)  # the step timed out: pass 2 DMs Ana again
    with ctx.session() as s:
        assert s.get(PageRecord, page_id).pass_number == 2
    when, func, args = ctx.services.scheduler.jobs[service.job_id(page_id, ANA, 1, 2)]
    jobs.notify_step(*args)
    assert len(twilio.of("Messages")) == 2
    jobs.notify_step(*args)  # the same pass's step never twice
    assert len(twilio.of("Messages")) == 2
