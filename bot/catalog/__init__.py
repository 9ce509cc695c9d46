"""The service catalog: services with their owner rotation, escalation policy, tracker, runbook, dashboards,
channel and telemetry queries; alert routes, triage, invites and follow-ups refer to services by name."""
