"""The contact rules in plain Python (no Slack, no database)."""
