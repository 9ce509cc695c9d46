"""The telemetry rules in plain Python (no Slack, no database, no HTTP)."""
