"""Submission of the `/incident declare` modal."""

from __future__ import annotations

from slack_bolt import App

from bot.context import AppContext
from bot.incidents.domain import TITLE_MAX
from bot.incidents.messages import DECLARE_CALLBACK
from bot.incidents.service import declare_and_report
from bot.slack.respond import tell_user


def parse_declare_form(values: dict, severities: list[str], default: str) -> tuple[dict, dict[str, str]]:
    """Read the modal's state; return (fields, errors by block id) — errors are shown inline in the modal."""
    def value(block: str):
        return (values.get(block) or {}).get("value") or {}

    title = (value("title").get("value") or "").strip()
    severity = ((value("severity").get("selected_option") or {}).get("value")) or default
    description = (value("description").get("value") or "").strip()
    private = any(o.get("value") == "private" for o in value("private").get("selected_options") or [])
    errors = {}
    if not title:
        errors["title"] = "A title is needed."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    if severity not in severities:
        errors["severity"] = f"Choose one of {', '.join(severities)}."
    return {"title": title, "severity": severity, "description": description, "private": private}, errors


def register(app: App, ctx: AppContext, _once=None) -> None:
    @app.view(DECLARE_CALLBACK)
    def handle_declare_submission(ack, body, view, client):
        cfg = ctx.config.incidents
        fields, errors = parse_declare_form(view["state"]["values"], cfg.severity_names, cfg.default_severity)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        user = body["user"]["id"]

        def respond(text: str, **_):
            # Modals have no response_url: reply in a DM.
            tell_user(client=client, user=user, text=text)

        declare_and_report(ctx, user=user, respond=respond, **fields)
