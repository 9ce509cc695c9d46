"""`/incident` commands inside an incident channel, end to end through signed HTTP requests."""

from __future__ import annotations

from sqlmodel import select

from storage.models import FollowUp, Incident, IncidentRole, TimelineEvent
from tests.conftest import ALICE, ANNOUNCE, BOB, REPORTER


def _incident(h) -> Incident:
    with h.ctx.session() as s:
        return s.exec(select(Incident)).one()


def test_role_update_status_followup_resolve(harness):
    h = harness
    channel = h.declare()
    fake = h.fake

    h.command(f"role commander <@{ALICE}|alice>", channel=channel)
    fake.wait_for(lambda f: any("is now *commander*" in (c.params.get("text") or "") for c in f.calls_to("chat.postMessage")))
    inc = _incident(h)
    assert inc.commander_id == ALICE and inc.acknowledged_at is not None
    assert ALICE in fake.channels[channel]["members"]
    fake.wait_for(lambda f: f.channels[channel]["topic"].endswith(f"commander: <@{ALICE}>"))

    h.command("update Rolled back the 14:02 deploy; error rate falling", channel=channel)
    fake.wait_for(lambda f: any(c.params.get("channel") == ANNOUNCE and c.params.get("thread_ts")
                                for c in f.calls_to("chat.postMessage")))
    threaded = [c for c in fake.calls_to("chat.postMessage") if c.params.get("thread_ts")][0]
    assert threaded.params["thread_ts"] == inc.announcement_ts
    assert "Rolled back the 14:02 deploy" in threaded.params["text"]

    h.command("status monitoring", channel=channel)
    fake.wait_for(lambda f: "monitoring" in f.channels[channel]["topic"])
    assert _incident(h).mitigated_at is not None

    h.command(f"followup Add an alert on checkout 5xx ratio <@{BOB}>", channel=channel)
    fake.wait_for(lambda f: any("Follow-up" in (c.params.get("text") or "") for c in f.calls_to("chat.postMessage")))
    with h.ctx.session() as s:
        item = s.exec(select(FollowUp)).one()
        assert (item.text, item.owner_id, item.created_by) == ("Add an alert on checkout 5xx ratio", BOB, REPORTER)

    h.command("resolve Bad config in the 14:02 deploy, rolled back", channel=channel)
    fake.wait_for(lambda f: any("resolved*" in (c.params.get("text") or "") for c in f.calls_to("chat.postMessage")))
    inc = _incident(h)
    assert inc.status == "resolved" and inc.resolved_at >= inc.mitigated_at >= inc.acknowledged_at
    resolved_msg = next(c for c in fake.calls_to("chat.postMessage") if "resolved*" in (c.params.get("text") or ""))
    assert "Time to resolve" in resolved_msg.params["text"]
    # The pinned summary was edited in place, not re-posted.
    fake.wait_for(lambda f: any(c.params["ts"] == inc.summary_ts and "resolved" in str(c.params["blocks"])
                                for c in f.calls_to("chat.update")))
    summaries = [c for c in fake.calls_to("chat.postMessage") if c.params["channel"] == channel
                 and any(b["type"] == "header" and b["text"]["text"].startswith("INC-1:") for b in c.params.get("blocks") or [])]
    assert len(summaries) == 1

    with h.ctx.session() as s:
        kinds = [e.kind for e in s.exec(select(TimelineEvent).order_by(TimelineEvent.at, TimelineEvent.id))]
        roles = {r.role: r.user_id for r in s.exec(select(IncidentRole))}
    assert kinds == ["declared", "role", "update", "status", "followup", "resolved"]
    assert roles == {"commander": ALICE}

    # Every entry points at the Slack message that announced it (the postmortem timeline cites them).
    def links():
        with h.ctx.session() as s:
            return [(e.kind, e.source_ts, e.permalink) for e in s.exec(select(TimelineEvent).order_by(TimelineEvent.id))]

    fake.wait_for(lambda f: all(p for _k, _ts, p in links()))
    summary = links()[0]
    assert summary[1] == inc.summary_ts  # "declared" cites the pinned summary
    posted = {c.response["ts"] for c in fake.calls_to("chat.postMessage") if c.params["channel"] == channel}
    assert {ts for _k, ts, _p in links()} <= posted


def test_severity_change_and_already_resolved(harness):
    h = harness
    channel = h.declare("sev3 Slow search")
    h.command("sev sev1", channel=channel)
    h.fake.wait_for(lambda f: f.channels[channel]["topic"].startswith("SEV1"))
    h.command("sev sev1", channel=channel)
    h.wait_response("already sev1")
    h.command("resolve", channel=channel)
    h.fake.wait_for(lambda f: "resolved" in f.channels[channel]["topic"])
    h.command("status investigating", channel=channel)
    h.wait_response("is resolved")
    assert _incident(h).status == "resolved"


def test_usage_errors_are_ephemeral_and_name_the_problem(harness):
    h = harness
    cases = {
        "status exploding": "unknown status `exploding`",
        "sev sev9": "unknown severity `sev9`",
        "declare sev7 Broken": "unknown severity `sev7`",
        "role boss <@U0ALICE>": "unknown role `boss`",
        "role commander alice": "@mention",
        "frobnicate": "unknown command `frobnicate`; see `/incident help`",
        "delcare sev1 Payments down": "unknown command `delcare`; did you mean `declare`?",
        "resovle": "did you mean `resolve`?",
        "update": "text is needed",
    }
    for text, expected in cases.items():
        r = h.command(text)
        assert r.status_code == 200
        body = r.json()
        assert body["response_type"] == "ephemeral"
        assert expected in body["text"], (text, body["text"])
        # One error (and the usage of that sub-command), never the whole help.
        assert "`/incident` commands" not in body["text"] and body["text"].count("\n") <= 1, body["text"]
        verb = text.split()[0]
        if verb in ("status", "sev", "role", "update", "declare"):
            assert f"Usage: `/incident {verb}" in body["text"]
    assert h.fake.attempts("conversations.create") == []


def test_channel_commands_outside_an_incident_channel(harness):
    harness.command("status monitoring", channel="C0GENERAL")
    r = harness.wait_response("works in an incident channel")
    assert r["response_type"] == "ephemeral"


def test_list_and_help(harness):
    h = harness
    h.declare("sev1 Payments down")
    h.command("list")
    listing = h.fake.wait_for(lambda f: next((r for r in f.responses if r.get("text") == "Open incidents"), None))
    assert "INC-1" in str(listing["blocks"]) and "Payments down" in str(listing["blocks"])
    r = h.command("help")
    assert "/incident status" in r.json()["text"]


def test_untrusted_title_cannot_mention_anyone(harness):
    h = harness
    channel = h.declare("sev2 <!channel> everything is down @here")
    summary = next(c for c in h.fake.calls_to("chat.postMessage") if c.params["channel"] == channel)
    # plain_text (the header) never renders mentions; every mrkdwn field and the notification text must be escaped.
    mrkdwn = [b for b in summary.params["blocks"] if b["type"] != "header"]
    text = str(mrkdwn) + summary.params["text"]
    assert "<!channel>" not in text and "@here" not in text
    assert "&lt;!channel&gt;" in text


def test_unexpected_error_gives_ephemeral_reference(harness):
    h = harness
    channel = h.declare()

    def broken(*_args):
        raise RuntimeError("boom")

    h.ctx.services.incident_commands["timeline"] = broken
    h.command("timeline something", channel=channel)
    r = h.wait_response("something went wrong")
    assert "ref `" in r["text"] and "boom" not in r["text"] and "Traceback" not in r["text"]
