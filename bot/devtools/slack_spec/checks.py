"""What Slack would refuse in a Web API call: the argument contract and Block Kit rules.

Pure functions: each returns a `Rejection` (Slack's error code and its response_metadata messages) or None.
Block Kit is validated by slack_sdk's own models; limits those models do not know are checked here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.devtools.slack_spec import methods

MESSAGE_BLOCK_LIMIT = 50  # chat.* messages
VIEW_BLOCK_LIMIT = 100  # modals and home tabs
MESSAGE_TEXT_LIMIT = 40_000  # chat.postMessage truncates/refuses past this (msg_too_long)
TOPIC_LIMIT = 250  # conversations.setTopic
CHANNEL_NAME_LIMIT = 80
CHANNEL_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
# Methods whose `blocks` argument is a message surface.
MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}
VIEW_METHODS = {"views.open", "views.update", "views.publish", "views.push"}


@dataclass
class Rejection:
    """Slack's answer to a call it refuses."""

    error: str
    messages: list[str] = field(default_factory=list)


def check_call(method: str, params: dict[str, Any]) -> Rejection | None:
    """The first reason Slack would refuse `method(**params)` (token excluded), or None."""
    spec = methods().get(method)
    if spec is None:
        return Rejection("unknown_method", [f"[ERROR] unknown method: {method}"])
    problems = [f"[ERROR] missing required field: {name}" for name in sorted(spec.required)
                if params.get(name) in (None, "")]
    # slack_sdk's WebClient(team_id=...) adds team_id to every call; Slack accepts it (org-wide installs).
    problems += [f"[ERROR] unknown argument: {name}" for name in sorted(params)
                 if name not in spec.args and name != "team_id"]
    if problems:
        return Rejection("invalid_arguments", problems)
    if method in MESSAGE_METHODS:
        return _check_message(params)
    if method in VIEW_METHODS:
        return check_view(params.get("view"))
    if method == "conversations.setTopic" and len(str(params.get("topic", ""))) > TOPIC_LIMIT:
        return Rejection("too_long", [f"[ERROR] topic longer than {TOPIC_LIMIT} characters"])
    if method == "conversations.create":
        return _check_channel_name(str(params.get("name", "")))
    return None


def _check_message(params: dict[str, Any]) -> Rejection | None:
    if len(str(params.get("text") or "")) > MESSAGE_TEXT_LIMIT:
        return Rejection("msg_too_long", [f"[ERROR] text longer than {MESSAGE_TEXT_LIMIT} characters"])
    if "blocks" not in params or params["blocks"] in (None, ""):
        return None
    blocks = params["blocks"]
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return Rejection("invalid_blocks_format", ["[ERROR] blocks is not valid JSON"])
    if not isinstance(blocks, list):
        return Rejection("invalid_blocks_format", ["[ERROR] blocks must be an array"])
    problems = check_blocks(blocks, MESSAGE_BLOCK_LIMIT, "/blocks")
    return Rejection("invalid_blocks", problems) if problems else None


def check_view(view: Any) -> Rejection | None:
    """Rejection for a modal/home-tab `view` Slack would refuse, or None."""
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return Rejection("invalid_arguments", ["[ERROR] view is not valid JSON"])
    if not isinstance(view, dict):
        return Rejection("invalid_arguments", ["[ERROR] view must be an object"])
    problems: list[str] = []
    if view.get("type") not in ("modal", "home"):
        problems.append("[ERROR] view type must be modal or home [json-pointer:/view/type]")
    try:
        View(**view).validate_json()
    except Exception as err:  # slack_sdk raises SlackObjectFormationError, TypeError, AttributeError...
        problems.append(f"[ERROR] {err} [json-pointer:/view]")
    problems += check_blocks(view.get("blocks") or [], VIEW_BLOCK_LIMIT, "/view/blocks")
    return Rejection("invalid_arguments", problems) if problems else None


def check_blocks(blocks: list[Any], limit: int, pointer: str) -> list[str]:
    """Problems Slack reports for a list of blocks (empty when Slack would accept them)."""
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    block_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        where = f"[json-pointer:{pointer}/{i}]"
        if not isinstance(raw, dict):
            problems.append(f"[ERROR] block must be an object {where}")
            continue
        try:
            block = Block.parse(raw)
            if block is None or type(block) is Block:
                raise ValueError(f"unknown block type {raw.get('type')!r}")
            block.validate_json()
        except Exception as err:  # the models raise several types; every one is Slack refusing the block
            problems.append(f"[ERROR] {err} {where}")
            continue
        # The models silently drop fields they do not know; Slack refuses them.
        unknown = sorted(set(raw) - set(block.to_dict()) - {"block_id"})
        if unknown:
            problems.append(f"[ERROR] unknown field(s) {', '.join(unknown)} {where}")
        if raw.get("type") == "header" and (raw.get("text") or {}).get("type") != "plain_text":
            problems.append(f"[ERROR] header text must be plain_text {where}")
        block_id = raw.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                problems.append(f"[ERROR] duplicate block_id {block_id!r} {where}")
            block_ids.add(block_id)
        action_ids = [e.get("action_id") for e in _elements(raw) if e.get("action_id")]
        for dup in sorted({a for a in action_ids if action_ids.count(a) > 1}):
            problems.append(f"[ERROR] duplicate action_id {dup!r} {where}")
    return problems


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """Interactive elements of a block (actions/context elements, a section accessory, an input element)."""
    found = [e for e in block.get("elements") or [] if isinstance(e, dict)]
    for key in ("accessory", "element"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    return found


def _check_channel_name(name: str) -> Rejection | None:
    if not name:
        return Rejection("invalid_name_required")
    if len(name) > CHANNEL_NAME_LIMIT:
        return Rejection("invalid_name_maxlength")
    if set(name) - CHANNEL_NAME_CHARS:
        return Rejection("invalid_name_specials")
    return None
