"""LLM-assisted triage and root-cause suggestions in the running app (Slack, storage, webhooks).

The pure domain lives in `bot.assist.domain`; this package gathers evidence from storage, calls it, stores and posts the
results, and applies a suggestion only when a person clicks Accept. `wiring.install(ctx)` plugs it in.
"""
