"""Blameless postmortems.

`domain/` holds the facts, rendering and the blameless linter; `store.py` reads an incident's facts from the
database; `service.py` drafts, stores and publishes (`publishing.py` to git, `github.py` pull requests);
`messages.py` is the Block Kit; `cli.py` and `cli_backend.py` are the `firewatch postmortem` edge.
"""
