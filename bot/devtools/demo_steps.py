"""Demo sections for LLM assistance, offline: a scripted model (`bot.devtools.scripted_llm`) answers, so the demo shows
a triage suggestion being accepted and an RCA citing a change event without any network.

Call from `bot.demo` after the existing scenario (the Accept pages the payments rotation; running it last keeps
that page out of the paging section's checks):

    from bot.devtools.demo_steps import run_assist_demo
    demo.run()
    run_assist_demo(demo)

`demo` needs what `bot.demo.Demo` has: ctx, fake, sender, running, transcript, section, say, command, settle, out.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from bot.assist import service
from bot.assist.messages import ACCEPT_ACTION_ID
from bot.devtools.scripted_llm import install_scripted_llm
from bot.assist.domain import ChangeEvent

CHANGE = {
    "service": "payments-api", "version": "2.4.1", "author": "dana",
    "description": "Switch card tokenization to the new provider",
    "url": "https://ci.example.com/payments-api/deploys/881",
}


def _blocks(call: Any) -> list[dict[str, Any]]:
    import json

    blocks = call.params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _triage_post(fake, channel: str):
    for call in reversed(fake.calls_to("chat.postMessage")):
        if call.params.get("channel") == channel and any(
                b.get("type") == "actions" and any(e.get("action_id") == ACCEPT_ACTION_ID for e in b.get("elements", []))
                for b in _blocks(call)):
            return call
    return None


def run_assist_demo(demo: Any, *, reporter: str = "U0RILEY", responder: str = "U0ALICE",
                    severity: str = "sev2", owner: str | None = "payments",
                    title: str = "Checkout payments failing with 500s on payments-api", first_section: int = 1) -> str:
    """Run the three assistance sections; returns the incident channel id."""
    fake, ctx = demo.fake, demo.ctx
    install_scripted_llm(ctx, severity=severity, owner=owner)

    demo.section(f"{first_section + 0}. The deploy pipeline reports a change")
    change = {**CHANGE, "timestamp": (datetime.now(timezone.utc) - timedelta(minutes=20)).isoformat()}
    token = os.environ.get(ctx.config.webhooks.token_env)
    if token:
        r = httpx.post(demo.running.url + "/webhooks/changes", json=change,
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
        demo.out(f"> CI posts {change['service']} {change['version']} to /webhooks/changes: HTTP {r.status_code} {r.text}")
    else:
        change_id = service.record_change(ctx, ChangeEvent.model_validate(change))
        demo.out(f"> CI reports {change['service']} {change['version']} (stored as change {change_id})")

    demo.section(f"{first_section + 1}. A new incident gets a triage suggestion (scripted model, offline)")
    before = len(fake.calls_to("conversations.create"))
    demo.command(reporter, f"declare sev3 {title}")
    demo.settle(lambda f: len(f.calls_to("conversations.create")) > before and _triage_post(
        f, f.calls_to("conversations.create")[before].response["channel"]["id"]))
    channel = fake.calls_to("conversations.create")[before].response["channel"]["id"]
    post = _triage_post(fake, channel)
    suggestion_id = next(e["value"] for b in _blocks(post) if b.get("type") == "actions"
                         for e in b["elements"] if e.get("action_id") == ACCEPT_ACTION_ID)

    demo.section(f"{first_section + 2}. Alice accepts the suggestion: severity applied, owner paged")
    demo.say(responder, "presses [Accept]")
    demo.sender.block_action(ACCEPT_ACTION_ID, suggestion_id, user=responder, channel=channel,
                             message_ts=post.response["ts"])
    demo.settle(lambda f: any(c.params.get("ts") == post.response["ts"] for c in f.calls_to("chat.update")))
    _acknowledge_page(demo, int(suggestion_id))

    demo.section(f"{first_section + 3}. Alice asks for root-cause hypotheses")
    demo.command(responder, "rca", channel)
    demo.settle(lambda f: any(c.params.get("channel") == channel and "Root-cause hypotheses" in str(_blocks(c))
                              for c in f.calls_to("chat.postMessage")))
    return channel


def _acknowledge_page(demo: Any, suggestion_id: int) -> None:
    """The paged on-call acknowledges, so the page does not escalate while the demo goes on."""
    from bot.paging import store
    from bot.paging.messages import ACK_ACTION_ID
    from storage.models import SuggestionRecord

    with demo.ctx.session() as s:
        row = s.get(SuggestionRecord, suggestion_id)
        page_id = ((row.payload or {}).get("applied") or {}).get("page_id") if row else None
        notes = [n for n in store.notifications(s, page_id) if n.error is None and n.message_ts] if page_id else []
    if not notes:
        return
    note = notes[0]
    demo.say(note.user_id, "presses [Acknowledge] on the page")
    demo.sender.block_action(ACK_ACTION_ID, str(page_id), user=note.user_id, channel=note.channel_id,
                             message_ts=note.message_ts)
    demo.settle(lambda f: True)  # then wait for the bot to go quiet and print what Slack showed
