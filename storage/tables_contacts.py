"""Contact methods, notification attempts, heartbeats (bot.contacts).

Imported by `storage.models`, so the tables are on `SQLModel.metadata` wherever the models are."""

from __future__ import annotations
