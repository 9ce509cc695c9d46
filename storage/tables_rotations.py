"""Rotation tables added after the first release: cover requests and their offers (bot.rotations).

Imported by `storage.models`, so the tables are on `SQLModel.metadata` wherever the models are."""

from __future__ import annotations
