"""Edge helpers for the HTTP server: body caps, input guards, Slack signature checks, database reachability."""
