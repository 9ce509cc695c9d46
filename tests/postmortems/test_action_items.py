"""Follow-ups become postmortem action items with their owner, type and link."""

from __future__ import annotations

from bot.postmortems.domain import render_markdown
from bot.postmortems.store import load_facts_by_number
from tests.conftest import BOB
from tests.postmortems.test_postmortems_app import bare_repo  # noqa: F401 - fixture


def test_followup_type_owner_and_link_reach_the_action_items(harness):
    h = harness
    channel = h.declare("sev2 Database connections exhausted")
    h.command(f"followup mitigate Raise the pool size, see <https://tickets.example.com/OPS-42|OPS-42> <@{BOB}>",
              channel=channel)
    h.fake.wait_for(lambda f: any("Follow-up #1 (mitigate)" in (c.params.get("text") or "")
                                  for c in f.calls_to("chat.postMessage")))
    h.command("followup Alert on pool saturation", channel=channel)
    h.fake.wait_for(lambda f: any("Follow-up #2 (prevent)" in (c.params.get("text") or "")
                                  for c in f.calls_to("chat.postMessage")))
    facts = load_facts_by_number(h.ctx, 1)
    items = [(i.type, i.owner, i.link) for i in facts.follow_ups]
    assert items == [("mitigate", "Bob", "https://tickets.example.com/OPS-42"), ("prevent", None, None)]
    markdown = render_markdown(facts)
    assert "https://tickets.example.com/OPS-42" in markdown.split("## Action items", 1)[1]


def test_private_incidents_are_not_pushed_unless_allowed(harness_factory, bare_repo):  # noqa: F811
    import subprocess

    from bot.incidents import service as incident_service
    from tests.postmortems.test_postmortems_app import config_with

    h = harness_factory(config_with(bare_repo))
    incident, problems = incident_service.declare(h.ctx, title="Credential leak in build logs", severity="sev1",
                                       reporter_id="U0REPORTER", private=True)
    assert problems == [] and incident.channel_id.startswith("G")
    h.command("resolve Rotated the credentials", channel=incident.channel_id)
    h.fake.wait_for(lambda f: "resolved" in f.channels[incident.channel_id]["topic"])
    h.command("postmortem publish", channel=incident.channel_id)
    reply = h.wait_response("is private")
    assert "postmortems.publish_private" in reply["text"] and "draft is saved" in reply["text"]
    branches = subprocess.run(["git", "--git-dir", str(bare_repo), "branch", "--list", "postmortem/*"],
                              capture_output=True, text=True, check=True).stdout
    assert branches.strip() == ""

    h.ctx.config.postmortems.publish_private = True
    h.command("postmortem publish", channel=incident.channel_id)
    h.fake.wait_for(lambda f: any("published" in (c.params.get("text") or "") for c in f.calls_to("chat.postMessage")
                                  if c.params["channel"] == incident.channel_id))
