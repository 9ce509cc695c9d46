"""Import schedules and escalation policies from PagerDuty, Opsgenie, Grafana OnCall and iCalendar feeds.

Pure modules per vendor (`pagerduty`, `opsgenie`, `grafana_oncall`, `ical`) read the vendor's own API export
into `domain.VendorExport`; `domain.build_config` maps it to `firewatch.yaml`; `expand` replays the vendor's
schedule by its own rules for `audit`; `service` holds the use cases and `cli` the `firewatch import` commands.
"""
