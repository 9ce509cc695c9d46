"""Slack message builders: content, buttons, limits, and that alert text can never notify anyone."""

from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from bot.paging.domain.alerts import parse_webhook
from bot.paging.domain.config import NotifyTarget
from bot.paging.domain.escalation import Position
from bot.paging.messages import (
    ACK_ACTION_ID,
    ESCALATE_ACTION_ID,
    PageContent,
    ack_confirmation_text,
    escalation_text,
    nobody_acknowledged_text,
    page_action_block_id,
    page_message,
    page_message_closed,
    parse_page_action_block_id,
    resolution_note_text,
    safe_text,
    unrouted_alert_report,
)
from tests.paging.payloads import load_json, load_text

HOSTILE = "@channel <!here> <@U123> <!subteam^S0ONCALL> <!everyone> @here"


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from _strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _strings(value)


def _assert_cannot_notify(message: Any) -> None:
    """No mention from the hostile text survives (the trusted actor U0AAA may still be mentioned)."""
    for text in _strings(message):
        assert not re.search(r"<@(?!U0AAA>)", text), text
        assert not re.search(r"<!(here|channel|everyone|subteam)", text), text
        assert not re.search(r"@(channel|here|everyone)\b", text), text


def _hostile_group():
    data = load_json("alertmanager_firing.json")
    alert = data["alerts"][0]
    alert["labels"]["alertname"] = "Fire <@U123>"
    alert["labels"]["team"] = HOSTILE
    alert["annotations"] = {"summary": HOSTILE, "description": "details " + HOSTILE, "runbook_url": "https://x.test/rb"}
    data["receiver"] = "<!channel>"
    data["groupKey"] = "{}:{team=\"<!here>\"}"
    return parse_webhook(data)


def test_page_message_from_alert_neutralises_mentions():
    alert = _hostile_group().alerts[0]
    content = PageContent.from_alert(alert, severity="sev1")
    message = page_message("P1", content, policy_name="payments <!here>", position=Position(), total_steps=3, repeat=2,
                           target=NotifyTarget("rotation", "payments"))
    _assert_cannot_notify(message)
    # The text is still there, escaped, so the responder sees what the alert said.
    assert "&lt;!here&gt;" in message["blocks"][1]["text"]["text"]
    assert "@\u2060channel" in message["text"]


@pytest.mark.parametrize(
    "text",
    [
        lambda t: ack_confirmation_text("P1", t, "U0AAA"),
        lambda t: ack_confirmation_text("P1", t, t),  # a bogus actor id is not rendered as a mention
        lambda t: escalation_text("P1", t, NotifyTarget("rotation", "payments", "secondary")),
        lambda t: escalation_text("P1", t, t, actor="U0AAA"),
        lambda t: nobody_acknowledged_text("P1", t, t, 2),
        lambda t: resolution_note_text("P1", t, resolved_by="U0AAA", note=t),
        lambda t: resolution_note_text(t, t, by_alert=True),
    ],
)
def test_texts_neutralise_untrusted_parts(text):
    _assert_cannot_notify(text(HOSTILE))


def test_unrouted_report_neutralises_mentions():
    group = _hostile_group()
    report = unrouted_alert_report(group)
    _assert_cannot_notify(report)
    assert report["text"] == "1 alert from Alertmanager (receiver &lt;!channel&gt;) matched no alert route, so nobody was paged."


def test_page_message_structure_and_buttons():
    group = parse_webhook(load_text("grafana_webhook_firing.json"))
    content = PageContent.from_alert(group.alerts[0], severity="sev2")
    message = page_message("P42", content, policy_name="blue", position=Position(pass_number=2, step_index=1),
                           total_steps=3, repeat=2, target=NotifyTarget("rotation", "blue", "secondary"))
    blocks = message["blocks"]
    assert message["text"] == "You are being paged: [FIRING] High memory usage: This alert was triggered for zone us-1"
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Page · sev2", "emoji": True}}
    assert blocks[1]["text"]["text"] == (
        "*[FIRING] High memory usage: This alert was triggered for zone us-1*\n"
        "The system has high memory usage\nValues: B=44.23943737541908, C=1"
    )
    assert blocks[2]["elements"][0]["text"] == "Labels: alertname=High memory usage, team=blue, zone=us-1"
    context = blocks[3]["elements"][0]["text"]
    assert context.startswith("Page `P42` · policy *blue* · step 2 of 3, pass 2 of 2 · you are on call for *blue (secondary)*")
    assert "<!date^1634025063^{date_short_pretty} {time}|2021-10-12 07:51 UTC>" in context  # 09:51:03+02:00
    actions = blocks[4]
    assert actions["type"] == "actions"
    assert [(b["action_id"], b["value"], b["text"]["text"]) for b in actions["elements"]] == [
        (ACK_ACTION_ID, "P42", "Acknowledge"),
        (ESCALATE_ACTION_ID, "P42", "Escalate"),
    ]
    assert parse_page_action_block_id(actions["block_id"]) == ("P42", Position(pass_number=2, step_index=1))
    links = blocks[5]["elements"]
    assert [(b["text"]["text"], b["url"]) for b in links] == [
        ("Runbook", "https://myrunbook.com/runbook/1234"),
        ("Source", "https://play.grafana.org/alerting/1afz29v7z/edit"),
        ("Silence", group.alerts[0].silence_url),
    ]
    assert len({b["action_id"] for b in links}) == 3


def test_relative_and_non_http_urls_get_no_button():
    alert = parse_webhook(load_text("alertmanager_resolved_with_fingerprint.json")).alerts[0]
    assert alert.generator_url.startswith("/metrics")
    assert PageContent.from_alert(alert).links == ()
    data = load_json("alertmanager_firing.json")
    data["alerts"][0]["annotations"]["runbook_url"] = "javascript:alert(1)"
    assert [t for t, _ in PageContent.from_alert(parse_webhook(data).alerts[0]).links] == ["Source"]


def test_block_id_round_trip_and_rejects_others():
    block_id = page_action_block_id("abc:def", Position(pass_number=1, step_index=2))
    assert parse_page_action_block_id(block_id) == ("abc:def", Position(pass_number=1, step_index=2))
    assert parse_page_action_block_id("page_links:P1") is None
    assert parse_page_action_block_id("page_actions:x:1:P1") is None
    assert parse_page_action_block_id(None) is None


def test_slack_limits_respected_for_huge_alert():
    label_set = {f"label_{i}": "v" * 300 for i in range(60)}
    label_set["alertname"] = "A" * 400
    payload = {
        "alerts": [
            {
                "status": "firing",
                "labels": label_set,
                "annotations": {"summary": "<" * 5000, "description": "&" * 9000, "runbook_url": "https://x.test/" + "a" * 4000},
            }
        ]
        * 30,
        "receiver": "r" * 500,
        "groupKey": "g" * 1000,
    }
    group = parse_webhook(payload)
    content = PageContent.from_alert(group.alerts[0], severity="sev1")
    messages = [
        page_message("P" * 400, content, policy_name="p" * 300, position=Position(), total_steps=1),
        page_message_closed("P1", content, "done"),
        unrouted_alert_report(group),
    ]
    for message in messages:
        assert len(message["blocks"]) <= 50
        assert len(message["text"]) <= 3000
        for block in message["blocks"]:
            assert len(block.get("block_id", "")) <= 255
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
            if block["type"] == "context":
                assert all(len(e["text"]) <= 2000 for e in block["elements"])
            if block["type"] == "actions":
                for element in block["elements"]:
                    assert len(element["text"]["text"]) <= 75
                    assert len(element.get("url", "")) <= 3000
                    assert len(element.get("value", "")) <= 2000
    # The 4000+ character runbook URL is over Slack's url limit, so it gets no button.
    assert all(text != "Runbook" for text, _ in content.links)
    # The report lists 10 alerts and counts the rest.
    report_text = "\n".join(b["text"]["text"] for b in messages[2]["blocks"] if b["type"] == "section")
    assert "…and 20 more." in report_text


def test_safe_text_does_not_cut_entities():
    out = safe_text("a" * 8 + "<<<<", 12)
    assert out == "aaaaaaaa…"  # "&lt;" would not fit whole, so it is dropped rather than left as "&l"
    assert safe_text("short", 12) == "short"


def test_confirmation_and_status_texts():
    assert ack_confirmation_text("P1", "Disk full", "U0AAA") == (
        "<@U0AAA> acknowledged page `P1`: Disk full. Escalation has stopped."
    )
    assert escalation_text("P1", "Disk full", NotifyTarget("user", "U0LEAD")) == (
        "Nobody acknowledged in time; escalated page `P1` (Disk full) to <@U0LEAD>."
    )
    assert escalation_text("P1", "Disk full", NotifyTarget("rotation", "payments", "secondary"), actor="U0AAA") == (
        "<@U0AAA> escalated page `P1` (Disk full) to *payments (secondary)*."
    )
    assert nobody_acknowledged_text("P1", "Disk full", "payments", 2) == (
        "Nobody acknowledged page `P1` (Disk full). Escalation policy *payments* went through every step "
        "2 times and paging has stopped. Someone needs to pick this up."
    )
    assert nobody_acknowledged_text("P1", "Disk full", "payments", 1, mention_here=True).startswith("<!here> ")
    assert resolution_note_text("P1", "Disk full", by_alert=True) == "The alert resolved: page `P1` (Disk full)."
    assert resolution_note_text("P1", "Disk full", resolved_by="U0AAA", note="rolled back") == (
        "<@U0AAA> resolved: page `P1` (Disk full). Note: rolled back"
    )


def test_closed_message_has_no_ack_buttons():
    content = PageContent(title="Disk full", links=(("Runbook", "https://x.test/rb"),))
    message = page_message_closed("P1", content, ack_confirmation_text("P1", "Disk full", "U0AAA"))
    action_ids = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ACK_ACTION_ID not in action_ids and ESCALATE_ACTION_ID not in action_ids
    assert action_ids == ["page_link_0"]
    assert message["text"].startswith("<@U0AAA> acknowledged page `P1`")


def test_unrouted_report_for_reference_payload():
    group = parse_webhook(load_json("alertmanager_firing_2alerts_oncall.json"))
    report = unrouted_alert_report(group)
    assert report["text"] == "2 alerts from Alertmanager (receiver combo) matched no alert route, so nobody was paged."
    listing = report["blocks"][1]["text"]["text"]
    assert "*[FIRING] InstanceDown: Instance localhost:8081 down*" in listing
    assert "`alertname=InstanceDown, group=production, instance=localhost:8081, job=node, severity=critical`" in listing
    assert "group `{}:{alertname=\"InstanceDown\"}`" in report["blocks"][-1]["elements"][0]["text"]
