"""Helpers to build rotation configs for tests."""

from __future__ import annotations

from typing import Any

from bot.rotations.domain.config import RotationConfig


def member(user: str, **extra: Any) -> dict:
    return {"user": user, "name": user[2:].title(), **extra}


def rotation(members: list[dict] | int = 4, **extra: Any) -> RotationConfig:
    """A London rotation with daily 10:00 handoffs unless overridden; `members` may be a count."""
    if isinstance(members, int):
        members = [member(f"U0M{i:02d}") for i in range(members)]
    data: dict[str, Any] = {
        "name": "payments",
        "timezone": "Europe/London",
        "shift": {"length": "1d", "handoff_time": "10:00"},
        "members": members,
        "start": "2027-01-04",
    }
    data.update(extra)
    # The deterministic effort limit decides what the solver finds; the wall-clock budget is only a guard, kept
    # generous so a loaded CI machine cannot turn an optimal plan into a greedy one. Tests about the budget set
    # their own.
    data["rules"] = {"solver_time_budget": "60s", **data.get("rules", {})}
    return RotationConfig.model_validate(data)
