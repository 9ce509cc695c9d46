"""`/page <rotation|@user> <message>`: page the rotation's current on-call (through its escalation policy) or a
person, with Acknowledge and Escalate buttons in their DM."""

from __future__ import annotations

from slack_bolt import App

from bot.context import AppContext
from bot.core.mentions import mention_user, mentioned_user
from bot.paging import flows, service
from bot.paging.messages import PageContent
from bot.safety import neutralize_mentions

USAGE = ("*`/page <rotation|@user> <message>`* — page a rotation's on-call (with escalation) or a person.\n"
         "Example: `/page payments Checkout 500s, see #inc-12`")


class PageUsageError(ValueError):
    pass


def parse_page(text: str, rotations: list[str]) -> tuple[str, str, str]:
    """Return (policy name, target description, message). Raises PageUsageError naming the problem."""
    target, _, message = (text or "").strip().partition(" ")
    message = message.strip()
    if not target:
        raise PageUsageError("say whom to page")
    if not message:
        raise PageUsageError("add a message so the person paged knows why")
    user = mentioned_user(target)
    if user is not None:
        return f"{flows.ADHOC_PREFIX}user:{user}", mention_user(user), message
    name = target.lstrip("#").lower()
    if name not in rotations:
        known = ", ".join(rotations) or "none configured"
        raise PageUsageError(f"unknown rotation `{neutralize_mentions(target)}` (rotations: {known}); "
                             "or page a person with @mention")
    return name, name, message


def register(app: App, ctx: AppContext, _once=None) -> None:
    @app.command("/page")
    def handle_page(ack, command, respond):
        rotations = [r.name for r in ctx.config.rotations]
        try:
            target, label, message = parse_page(command.get("text", ""), rotations)
        except PageUsageError as exc:
            ack(response_type="ephemeral", text=f":warning: {exc}\n\n{USAGE}")
            return
        if target.startswith(f"{flows.ADHOC_PREFIX}user:"):
            # Checked before the ack so that nobody is told "paging…" for a person who does not exist.
            problem = service.unknown_user_problem(ctx, target.rpartition(":")[2])
            if problem:
                ack(response_type="ephemeral", text=f":warning: {problem}.")
                return
        ack(response_type="ephemeral", text=f":pager: Paging {label}…")
        policy = target if target.startswith(flows.ADHOC_PREFIX) else flows.policy_for_rotation(ctx, target)
        content = PageContent(title=message[:200], details=message if len(message) > 200 else "",
                              source=None)
        page_id = flows.create_page(ctx, policy_name=policy, content=content, requester=command["user_id"],
                                    source="slack", channel_id=command.get("channel_id"))
        respond(response_type="ephemeral",
                text=f":pager: Page `{page_id}` sent to {label}. You will see here when it is acknowledged.")
