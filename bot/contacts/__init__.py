"""Contact methods and notification rules: how a page reaches a person after Slack (SMS, voice, push, email),
heartbeats (dead man's switches) and coverage checks."""
