"""Config field types for Slack ids and environment-variable names, validated with one message each.

A name where an id belongs (`#incidents` for `C0123ABCD`) is the most common configuration mistake, and Slack
answers it only at 3 a.m. with `channel_not_found`; these types catch it at `firewatch config check`.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from bot.core.mentions import is_channel_id, is_user_id, is_usergroup_id

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _channel(value: str) -> str:
    if not is_channel_id(value):
        raise ValueError(f"{value!r} is not a Slack channel id (like C0123ABCD); use the id, not the name")
    return value


def _user(value: str) -> str:
    if not is_user_id(value):
        raise ValueError(f"{value!r} is not a Slack user id (like U0123ABCD); use the id, not the name")
    return value


def _usergroup(value: str) -> str:
    if not is_usergroup_id(value):
        raise ValueError(f"{value!r} is not a Slack user group id (like S0123ABCD)")
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is not an environment variable name (letters, digits and _)")
    return value


ChannelId = Annotated[str, AfterValidator(_channel)]
UserId = Annotated[str, AfterValidator(_user)]
UserGroupId = Annotated[str, AfterValidator(_usergroup)]
EnvVarName = Annotated[str, AfterValidator(_env_name)]
