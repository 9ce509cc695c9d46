"""Slack's Web API contract as data: per method, the argument names Slack accepts and the ones it requires.

`methods.json` is generated from Slack's published OpenAPI spec (see `generate.py` and `methods.json.source.txt`);
`ADDED` covers what Slack documented after that spec was frozen (2020) and that the fake implements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class MethodSpec:
    """What one Web API method accepts."""

    args: frozenset[str]
    required: frozenset[str]


# Facts from Slack's current method pages (api.slack.com/methods/...), newer than the 2020 OpenAPI file.
ADDED: dict[str, dict[str, list[str]]] = {
    "bookmarks.add": {"args": ["channel_id", "title", "type", "link", "emoji", "entity_id", "access_level",
                               "parent_id"], "required": ["channel_id", "title", "type"]},
    "chat.postMessage": {"args": ["metadata", "unfurl_links", "unfurl_media"], "required": []},
    # Slack's current file upload (files.upload is retired): reserve an URL, POST the bytes, complete.
    "files.getUploadURLExternal": {"args": ["filename", "length", "alt_txt", "snippet_type"],
                                   "required": ["filename", "length"]},
    "files.completeUploadExternal": {"args": ["files", "channel_id", "channels", "initial_comment", "thread_ts",
                                              "blocks"], "required": ["files"]},
    "chat.update": {"args": ["metadata", "file_ids", "reply_broadcast"], "required": []},
    # The 2020 file does not flag these as required, but Slack refuses the call without them.
    "conversations.create": {"args": ["team_id"], "required": ["name"]},
    "conversations.invite": {"args": ["force"], "required": ["channel", "users"]},
    "conversations.setTopic": {"args": [], "required": ["channel", "topic"]},
    "conversations.history": {"args": ["include_all_metadata"], "required": ["channel"]},
    "conversations.info": {"args": [], "required": ["channel"]},
    "conversations.join": {"args": [], "required": ["channel"]},
    "pins.add": {"args": [], "required": ["timestamp"]},
    "users.info": {"args": [], "required": ["user"]},
    "views.update": {"args": [], "required": ["view"]},
}


@lru_cache(maxsize=1)
def methods() -> dict[str, MethodSpec]:
    """Every known method name -> its MethodSpec."""
    raw = json.loads(Path(__file__).with_name("methods.json").read_text())
    for name, extra in ADDED.items():
        entry = raw.setdefault(name, {"args": [], "required": []})
        entry["args"] = sorted(set(entry["args"]) | set(extra["args"]) | set(extra["required"]))
        entry["required"] = sorted(set(entry["required"]) | set(extra["required"]))
    return {name: MethodSpec(frozenset(e["args"]), frozenset(e["required"])) for name, e in raw.items()}
