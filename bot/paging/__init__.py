"""Paging and alert intake, in plain Python (no Slack, no database).

Modules: `config` (firewatch.yaml sections), `alerts` (webhook parsing), `routing` (route and severity),
`escalation` (pure escalation steps and page state machine), `burden` (fairness weight of a page),
`pagerduty` (Events API v2 mirror), `messages` (Slack text and Block Kit dicts).
"""
