"""Incidents: `/incident` and what it does.

`domain` (command grammar, channel names, titles, metrics: pure), `commands` (the one sub-command registry that
also renders `/incident help`: pure), `store` (all incident SQL), `service` (the use cases, one per
sub-command, plus declare/repair/timeline pins, calling the store and Slack), `messages` (Block Kit and texts),
`visibility` (who may see a private incident, where it may be announced).
"""
