"""Paging and alert intake.

`domain/` holds the rules (config, alert parsing, routing, escalation, burden); `store.py` the SQL;
`service.py`, `flows.py` and `intake.py` the use cases; `messages.py` the Block Kit; `pagerduty.py` the Events API
v2 mirror; `webhooks.py` the HTTP edge.
"""
