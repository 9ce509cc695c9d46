"""Incident follow-through: follow-ups as GitHub/Jira issues with status sync, SLAs and reminders."""
