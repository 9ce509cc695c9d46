"""Render what the fake Slack saw as a readable transcript: what people in Slack would have seen."""

from __future__ import annotations

from typing import Any

from bot.core.mrkdwn import to_plain_text
from bot.devtools.fake_slack import Call, FakeSlack


class Transcript:
    """Turns recorded Web API calls into lines, remembering how far it has read."""

    def __init__(self, fake: FakeSlack):
        self.fake = fake
        self.seen_calls = 0
        self.seen_responses = 0

    def _name(self, user_id: str) -> str:
        return "@" + self._real_name(user_id)

    def _real_name(self, user_id: str) -> str:
        user = self.fake.users.get(user_id)
        return user["real_name"] if user else user_id

    def _channel(self, channel_id: str) -> str:
        ch = self.fake.channels.get(channel_id)
        if ch is None:
            return channel_id
        if channel_id.startswith("D"):
            others = [self._name(u) for u in ch["members"] if u != "UFIREWATCH"]
            return "DM " + ", ".join(others)
        return "#" + ch["name"]

    def text(self, text: str) -> str:
        return to_plain_text(text, self._real_name, lambda channel_id, _label: self._channel(channel_id))

    def blocks(self, blocks: list[dict[str, Any]] | None) -> list[str]:
        lines: list[str] = []
        for b in blocks or []:
            if b.get("type") == "header":
                lines.append("== " + b["text"]["text"] + " ==")
            elif b.get("type") == "section":
                if b.get("text"):
                    lines.extend(self.text(b["text"]["text"]).splitlines())
                for f in b.get("fields") or []:
                    lines.append("  " + self.text(f["text"]).replace("\n", ": ", 1))
                acc = b.get("accessory")
                if acc and acc.get("type") == "button":
                    lines.append(f"  [{acc['text']['text']}]")
            elif b.get("type") == "context":
                lines.append("  (" + " ".join(self.text(e.get("text", "")) for e in b.get("elements", [])) + ")")
            elif b.get("type") == "actions":
                lines.append("  " + " ".join(f"[{e['text']['text']}]" for e in b.get("elements", []) if e.get("text")))
        return lines

    def _describe(self, call: Call) -> list[str]:
        p = call.params
        if call.status != 200 or not call.response.get("ok"):
            err = call.response.get("error") or call.status
            return [f"  ! Slack answered {call.method} with {err} (Firewatch retries or records it)"]
        if call.method == "conversations.create":
            return [f"  + channel #{p['name']} created"]
        if call.method == "conversations.invite":
            return [f"  + {', '.join(self._name(u) for u in str(p['users']).split(','))} invited to {self._channel(p['channel'])}"]
        if call.method == "conversations.setTopic":
            return [f"  ~ {self._channel(p['channel'])} topic: {self.text(p['topic'])}"]
        if call.method == "pins.add":
            return [f"  * message pinned in {self._channel(p['channel'])}"]
        if call.method == "usergroups.users.update":
            return [f"  ~ user group {p['usergroup']} now: {', '.join(self._name(u) for u in str(p['users']).split(','))}"]
        if call.method in ("chat.postMessage", "chat.update"):
            where = self._channel(p["channel"])
            verb = "edits its message in" if call.method == "chat.update" else "posts in"
            if p.get("thread_ts"):
                where += " (thread" + (", also sent to the channel" if p.get("reply_broadcast") else "") + ")"
            body = self.blocks(p.get("blocks")) or self.text(p.get("text", "")).splitlines()
            return [f"  Firewatch {verb} {where}:"] + [f"    | {line}" for line in body]
        if call.method == "views.open":
            view = p.get("view") or {}
            labels = [b.get("label", {}).get("text", "") for b in view.get("blocks", []) if b.get("type") == "input"]
            return [f"  [modal] {view.get('title', {}).get('text', '')}: {', '.join(labels)}"]
        return []

    def new_lines(self) -> list[str]:
        with self.fake.lock:
            calls = self.fake.calls[self.seen_calls:]
            responses = self.fake.responses[self.seen_responses:]
            self.seen_calls += len(calls)
            self.seen_responses += len(responses)
            lines: list[str] = []
            for call in calls:
                lines.extend(self._describe(call))
            for r in responses:
                body = self.blocks(r.get("blocks")) or self.text(r.get("text", "")).splitlines()
                lines.append("  (only visible to you):")
                lines.extend(f"    | {line}" for line in body)
            return lines
