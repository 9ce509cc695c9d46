"""The paging rules in plain Python (no Slack, no database): `config` (firewatch.yaml sections), `alerts`
(webhook parsing), `routing` (route and severity), `escalation` (steps and the page state machine), `burden`
(fairness weight of a page)."""
