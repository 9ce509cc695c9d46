"""Private incidents stay private: never announced publicly, listed only to members of their channel, never
similar-incident evidence for another incident, absent from the rotation's handoff post and from DMs to non-members,
and their title never reaches a log line at any level.

The fake Slack records every call: each test asserts the title appears in no message to a public channel or to
someone outside the incident channel."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlmodel import select

from bot.assist import evidence
from bot.devtools.fake_slack import FakeSlack
from bot.incidents import service as incident_service
from bot.rotations import handoff, service as oncall_service
from storage.models import Incident, SuggestionRecord
from storage.types import utcnow
from tests.conftest import ALICE, ANNOUNCE, BOB, REPORTER
from tests.rotations.helpers import CHANNEL as ONCALL_CHANNEL
from tests.rotations.helpers import config as oncall_config
from tests.rotations.helpers import dm_channel, start, text_of
from tests.assist.conftest import llm_env, llm_route  # noqa: F401 - fixtures

SECRET_TITLE = "Breach of vault-7 admin credentials"
SECRET_UPDATE = "exfiltration via stolen-laptop confirmed"
SECRET_RESOLUTION = "rotated every vault-7 key"
PRIVATE_ANNOUNCE = "C0SECANNOUNCE"


def private_config(**incidents) -> dict:
    cfg = {"admins": [ALICE],
           "incidents": {"announcements_channel": ANNOUNCE, "channel_prefix": "inc", "private_by_default": True}}
    cfg["incidents"].update(incidents)
    return cfg


def everything_sent(fake: FakeSlack, channel: str) -> str:
    """All text the bot sent to `channel` (posts, updates, ephemerals), blocks included."""
    out = []
    for call in fake.calls:
        if call.params.get("channel") == channel and call.method.startswith("chat."):
            out.append(json.dumps(call.params, ensure_ascii=False))
    return "\n".join(out)


def responses_text(h, start: int = 0) -> str:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in h.responses()[start:])


def list_reply(h, user: str) -> str:
    """Run `/incident list` as `user`; return the whole reply."""
    start_at = len(h.responses())
    h.command("list", user=user)
    reply = h.fake.wait_for(lambda f: next((r for r in f.responses[start_at:] if r.get("text") == "Open incidents"), None))
    return json.dumps(reply, ensure_ascii=False)


def assert_secret_absent(text: str) -> None:
    for secret in (SECRET_TITLE, SECRET_UPDATE, SECRET_RESOLUTION, "vault-7", "vault 7"):
        assert secret.lower() not in text.lower(), f"{secret!r} leaked: {text[:500]}"


def run_private_lifecycle(h) -> str:
    """Declare a private incident, update it, change status and severity, resolve it; return its channel."""
    channel = h.declare(f"sev2 {SECRET_TITLE}")
    # Each command waits for its own message (a triage suggestion can arrive in the channel at any time).
    for text, marker in ((f"update {SECRET_UPDATE}", SECRET_UPDATE), ("status identified", "to *identified*"),
                         ("sev sev1", "to *SEV1*"), (f"resolve {SECRET_RESOLUTION}", SECRET_RESOLUTION)):
        h.command(text, channel=channel)
        h.fake.wait_for(lambda f: any(marker in (c.params.get("text") or "") for c in f.calls_to("chat.postMessage")
                                      if c.params["channel"] == channel))
    # The pinned summary refreshed after the resolution is the last Slack step in the channel.
    h.fake.wait_for(lambda f: any("Time to resolve" in json.dumps(c.params) for c in f.calls_to("chat.update")))
    return channel


def test_private_incident_is_announced_nowhere_public(harness_factory):
    h = harness_factory(private_config())
    channel = run_private_lifecycle(h)

    assert everything_sent(h.fake, ANNOUNCE) == ""
    assert h.fake.messages(ANNOUNCE) == []
    # It was all said in its own channel, which is private.
    own = everything_sent(h.fake, channel)
    assert SECRET_TITLE in own and SECRET_UPDATE in own and SECRET_RESOLUTION in own
    assert h.fake.channels[channel]["is_private"] is True
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
        assert inc.private and inc.announcement_ts is None and inc.announcement_channel is None
        assert inc.status == "resolved"
        # Announcing to nobody is not a missing step: repair and the start-up sweep never post it publicly.
        assert incident_service.missing_steps(h.ctx, inc) == []
    assert incident_service.repair_all(h.ctx) == {}
    assert everything_sent(h.fake, ANNOUNCE) == ""


def test_private_incident_goes_to_the_private_announcements_channel_only(harness_factory):
    h = harness_factory(private_config(private_announcements_channel=PRIVATE_ANNOUNCE))
    h.fake.add_channel(PRIVATE_ANNOUNCE, "security-incidents", private=True)
    run_private_lifecycle(h)

    h.fake.wait_for(lambda f: SECRET_RESOLUTION in everything_sent(f, PRIVATE_ANNOUNCE))
    assert everything_sent(h.fake, ANNOUNCE) == ""
    private = everything_sent(h.fake, PRIVATE_ANNOUNCE)
    assert SECRET_TITLE in private and SECRET_UPDATE in private and SECRET_RESOLUTION in private
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
        assert inc.announcement_channel == PRIVATE_ANNOUNCE
    # Updates and the resolution are threaded under that announcement.
    threaded = [c for c in h.fake.calls_to("chat.postMessage")
                if c.params["channel"] == PRIVATE_ANNOUNCE and c.params.get("thread_ts") == inc.announcement_ts]
    assert len(threaded) == 2


def test_public_incident_is_still_announced_publicly(harness_factory):
    h = harness_factory(private_config(private_by_default=False, private_announcements_channel=PRIVATE_ANNOUNCE))
    h.fake.add_channel(PRIVATE_ANNOUNCE, "security-incidents", private=True)
    h.declare("sev3 Search results are slow")
    assert "Search results are slow" in everything_sent(h.fake, ANNOUNCE)
    assert everything_sent(h.fake, PRIVATE_ANNOUNCE) == ""


def test_legacy_public_announcement_of_a_private_incident_is_not_updated(harness_factory):
    """An incident announced publicly by an older version, later made private, gets no more public posts."""
    h = harness_factory(private_config(private_by_default=False))
    channel = h.declare(f"sev2 {SECRET_TITLE}")
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
        inc.private = True
        s.add(inc)
    before = everything_sent(h.fake, ANNOUNCE)
    h.command(f"update {SECRET_UPDATE}", channel=channel)
    h.fake.wait_for(lambda f: any(SECRET_UPDATE in json.dumps(c.params) for c in f.calls_to("chat.postMessage")))
    h.command(f"resolve {SECRET_RESOLUTION}", channel=channel)
    h.fake.wait_for(lambda f: any(SECRET_RESOLUTION in json.dumps(c.params) for c in f.calls_to("chat.postMessage")))
    h.fake.wait_for(lambda f: any("Time to resolve" in json.dumps(c.params) for c in f.calls_to("chat.update")))
    assert everything_sent(h.fake, ANNOUNCE) == before


def test_list_shows_a_private_incident_only_to_members_of_its_channel(harness_factory):
    h = harness_factory(private_config())
    channel = h.declare(f"sev2 {SECRET_TITLE}")
    h.command("declare sev3 Public search slowness")  # private too (private_by_default); BOB is in neither
    h.fake.wait_for(lambda f: len(f.calls_to("conversations.create")) == 2)
    h.wait_response("INC-2 declared")

    assert_secret_absent(list_reply(h, BOB))
    assert "No open incidents" in list_reply(h, BOB)

    # A member of the channel (the reporter was invited) sees it.
    assert SECRET_TITLE in list_reply(h, REPORTER)

    # Added to the channel in Slack (not by the bot): Slack's member list is the truth, so BOB now sees it.
    h.fake.channels[channel]["members"].append(BOB)
    assert SECRET_TITLE in list_reply(h, BOB)


def test_list_fails_closed_when_slack_cannot_say_who_is_in_the_channel(harness_factory):
    h = harness_factory(private_config())
    h.declare(f"sev2 {SECRET_TITLE}")
    h.fake.fail("conversations.members", error="internal_error", times=5)
    reply = list_reply(h, REPORTER)
    assert "No open incidents" in reply
    assert_secret_absent(reply)


def test_private_incident_is_not_similar_evidence_for_another(harness_factory):
    h = harness_factory(private_config(private_by_default=False))
    # A private past incident and a public one, both resolved and both close to the new one's words.
    with h.ctx.session() as s:
        for number, (title, private) in enumerate(((f"Checkout API 500s {SECRET_TITLE}", True),
                                                   ("Checkout API 500s after deploy", False)), start=1):
            s.add(Incident(number=number, title=title, description="checkout api returning 500 errors",
                           severity="sev2", status="resolved", private=private, channel_id=f"C0PAST{number}",
                           resolution_summary=f"{SECRET_RESOLUTION}" if private else "rolled back"))
        from sqlalchemy import text as sql

        s.execute(sql("UPDATE counters SET value = 2 WHERE name = 'incident_number'"))
    channel = h.declare("sev3 Checkout API returning 500s again")
    h.fake.wait_for(lambda f: any("triage for" in json.dumps(c.params) for c in f.calls_to("chat.postMessage")
                                  if c.params["channel"] == channel), timeout=15)
    with h.ctx.session() as s:
        new = s.exec(select(Incident).where(Incident.number == 3)).one()
        row = s.exec(select(SuggestionRecord).where(SuggestionRecord.incident_id == new.id)).one()
    bundle = evidence.gather(h.ctx, new.id)
    assert [r["channel_id"] for r in bundle.similar] == ["C0PAST2"]  # the public one is found, so search works
    assert_secret_absent(json.dumps([i.text for i in bundle.items]) + json.dumps(bundle.similar))
    assert_secret_absent(json.dumps(row.payload))
    assert "C0PAST1" not in json.dumps(row.payload)
    assert_secret_absent(everything_sent(h.fake, channel))

    # The private incident's own triage may use its own description and timeline.
    with h.ctx.session() as s:
        private = s.exec(select(Incident).where(Incident.number == 1)).one()
    own = evidence.gather(h.ctx, private.id)
    assert own.incident.title == f"Checkout API 500s {SECRET_TITLE}"


def test_handoff_lists_a_private_incident_only_in_dms_to_members(harness_factory):
    h = start(harness_factory, oncall_config(private_by_default=True))
    boundary = handoff.next_boundary(h.ctx, "payments", utcnow())
    outgoing = oncall_service.on_call(h.ctx, "payments", at=boundary - timedelta(hours=1))
    incoming = oncall_service.on_call(h.ctx, "payments", at=boundary)
    assert outgoing and incoming and outgoing != incoming
    channel = h.declare(f"sev2 {SECRET_TITLE}")
    h.fake.channels[channel]["members"].append(incoming)  # the incoming person is in the incident channel
    assert outgoing not in h.fake.channels[channel]["members"]
    with h.ctx.session() as s:
        s.add(Incident(number=99, title="Public search slowness", severity="sev3", status="investigating",
                       private=False, channel_id="C0PUBLICINC"))

    result = handoff.run_handoff(h.ctx, "payments", now=boundary + timedelta(minutes=1))
    assert result.sent

    posts = [m for m in h.fake.messages(ONCALL_CHANNEL) if "Handoff: payments" in text_of(m)]
    assert len(posts) == 1
    assert "Public search slowness" in text_of(posts[0])
    assert_secret_absent(everything_sent(h.fake, ONCALL_CHANNEL))
    outgoing_dm = everything_sent(h.fake, dm_channel(h, outgoing))
    incoming_dm = everything_sent(h.fake, dm_channel(h, incoming))
    assert "Handoff: payments" in outgoing_dm and "Public search slowness" in outgoing_dm
    assert_secret_absent(outgoing_dm)
    assert SECRET_TITLE in incoming_dm


def test_private_title_never_logged_at_any_level(harness_factory, caplog):
    caplog.set_level(logging.DEBUG)
    h = harness_factory(private_config())
    channel = run_private_lifecycle(h)
    list_reply(h, BOB)
    list_reply(h, REPORTER)
    h.command("role commander <@U0NOBODY>", channel=channel)
    h.wait_response("U0NOBODY")
    h.fake.fail("chat.postMessage", error="channel_not_found")
    h.command("declare sev1 vault-7 second breach")  # a failing Slack step logs a warning
    h.wait_response("recorded")
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    text = "\n".join(formatter.format(r) for r in caplog.records)
    # The app's own threads were captured (the failed step's warning), so an absent title means something.
    assert "Slack set-up step failed: summary: channel_not_found" in text
    assert_secret_absent(text)


def test_postmortem_published_notice_stays_out_of_public_announcements(harness_factory):
    from bot.postmortems.publishing import PublishResult
    from bot.postmortems import service as pm_service

    h = harness_factory(private_config(private_announcements_channel=PRIVATE_ANNOUNCE))
    h.fake.add_channel(PRIVATE_ANNOUNCE, "security-incidents", private=True)
    channel = h.declare(f"sev2 {SECRET_TITLE}")
    h.fake.wait_for(lambda f: everything_sent(f, PRIVATE_ANNOUNCE))
    result = PublishResult(path="postmortems/2026/0001-x.md", branch="postmortem/inc-1", commit_sha="abc123",
                           pr_url=None, pushed=True, changed=True)
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
        own_ts = inc.announcement_ts
    pm_service.announce_published(h.ctx, inc.id, result, [])
    replies = [c for c in h.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == own_ts]
    assert [c.params["channel"] for c in replies] == [PRIVATE_ANNOUNCE]  # its own announcements channel: yes
    assert any("postmortem" in (c.params.get("text") or "").lower() for c in h.fake.calls_to("chat.postMessage")
               if c.params["channel"] == channel)

    # An announcement stored in the public channel (an older version announced it there) gets no reply.
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
        inc.announcement_channel = ANNOUNCE
        s.add(inc)
    before = everything_sent(h.fake, ANNOUNCE)
    pm_service.announce_published(h.ctx, inc.id, result, [])
    assert everything_sent(h.fake, ANNOUNCE) == before


def test_private_past_incident_never_reaches_the_llm_prompt(harness_factory, llm_route):
    from tests.assist.conftest import CONFIG as ASSIST_CONFIG, by_task, completion, request_texts

    llm_route.mock(side_effect=by_task(triage=completion({
        "severity": "sev2", "affected_services": ["checkout"], "suggested_owner": None, "summary": "500s.",
        "first_steps": [{"text": "Check dashboards", "url": None}], "confidence": 0.5, "evidence_ids": []})))
    cfg = {**ASSIST_CONFIG, "incidents": {**ASSIST_CONFIG["incidents"]}}
    h = harness_factory(cfg)
    with h.ctx.session() as s:
        s.add(Incident(number=1, title=f"Checkout API 500s {SECRET_TITLE}", description="checkout api 500 errors",
                       severity="sev2", status="resolved", private=True, channel_id="C0PAST1",
                       resolution_summary=SECRET_RESOLUTION))
        from sqlalchemy import text as sql

        s.execute(sql("UPDATE counters SET value = 1 WHERE name = 'incident_number'"))
    channel = h.declare("sev3 Checkout API returning 500s again")
    h.fake.wait_for(lambda f: any("triage for" in json.dumps(c.params) for c in f.calls_to("chat.postMessage")
                                  if c.params["channel"] == channel), timeout=15)
    assert llm_route.called
    prompts = request_texts(llm_route)
    assert "Checkout API returning 500s again" in prompts  # the prompt is the one we think it is
    assert_secret_absent(prompts)
    assert "C0PAST1" not in prompts and "INC-1" not in prompts


def test_private_title_not_logged_by_its_own_llm_triage(harness_factory, llm_route, caplog):
    from tests.assist.conftest import CONFIG as ASSIST_CONFIG, by_task, completion

    caplog.set_level(logging.DEBUG)
    llm_route.mock(side_effect=by_task(triage=completion({
        "severity": "sev2", "affected_services": [], "suggested_owner": None, "summary": "Credentials exposed.",
        "first_steps": [{"text": "Rotate keys", "url": None}], "confidence": 0.5, "evidence_ids": []})))
    cfg = {**ASSIST_CONFIG, "incidents": {**ASSIST_CONFIG["incidents"], "private_by_default": True}}
    h = harness_factory(cfg)
    channel = h.declare(f"sev2 {SECRET_TITLE}")
    h.fake.wait_for(lambda f: any("triage for" in json.dumps(c.params) for c in f.calls_to("chat.postMessage")
                                  if c.params["channel"] == channel), timeout=15)
    assert llm_route.called  # its own prompt carried the title (to the model, not to the log)
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    text = "\n".join(formatter.format(r) for r in caplog.records)
    assert "llm call purpose=triage" in text  # the assist thread's own log lines were captured
    assert_secret_absent(text)
