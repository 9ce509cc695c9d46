"""Slack ids and the `<@U…>` / `<#C…>` mention syntax, written once.

Slack sends a user mention as `<@U0123ABCD>` or, from older clients and some payloads, `<@U0123ABCD|name>`; a
channel as `<#C0123ABCD|name>` (the name may be empty). Ids start with U or W (enterprise users), C, G or D
(public, private, direct channels) and S (user groups), followed by upper-case letters and digits.
"""

from __future__ import annotations

import re

USER_ID = r"[UW][A-Z0-9]{2,}"
CHANNEL_ID = r"[CGD][A-Z0-9]{2,}"
USERGROUP_ID = r"S[A-Z0-9]{2,}"

# group(1) is the id, group(2) the label after `|` (None when absent).
USER_MENTION = re.compile(rf"<@({USER_ID})(?:\|([^>]*))?>")
CHANNEL_MENTION = re.compile(rf"<#({CHANNEL_ID})(?:\|([^>]*))?>")

_USER_ID = re.compile(USER_ID)
_CHANNEL_ID = re.compile(CHANNEL_ID)
_USERGROUP_ID = re.compile(USERGROUP_ID)


def is_user_id(value: object) -> bool:
    """True for a whole Slack user id such as `U0123ABCD`."""
    return isinstance(value, str) and _USER_ID.fullmatch(value) is not None


def is_channel_id(value: object) -> bool:
    """True for a whole Slack channel id such as `C0123ABCD`."""
    return isinstance(value, str) and _CHANNEL_ID.fullmatch(value) is not None


def is_usergroup_id(value: object) -> bool:
    """True for a whole Slack user group id such as `S0123ABCD`."""
    return isinstance(value, str) and _USERGROUP_ID.fullmatch(value) is not None


def mention_user(user_id: str) -> str:
    """`<@U0123ABCD>`; ValueError for anything that is not a user id, so untrusted text never becomes markup."""
    if not is_user_id(user_id):
        raise ValueError(f"{user_id!r} is not a Slack user id")
    return f"<@{user_id}>"


def mentioned_user(token: str) -> str | None:
    """The user id when `token` (surrounding spaces ignored) is exactly one user mention, else None."""
    match = USER_MENTION.fullmatch(token.strip())
    return match.group(1) if match else None


def mentioned_users(text: str) -> list[str]:
    """Ids of every user mentioned in `text`, first mention first, each once."""
    return list(dict.fromkeys(m.group(1) for m in USER_MENTION.finditer(text)))
