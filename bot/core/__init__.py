"""Helpers shared by every feature, written once: durations, Slack mentions and ids, slugs, Slack error codes and
the background-thread runner.

Nothing here imports a feature package (`bot.incidents`, `bot.paging`, ...), the database or `bot.slack`; the one
third-party Slack import is `slack_sdk.errors` in `slack_errors`, whose whole job is to read that exception.
"""
