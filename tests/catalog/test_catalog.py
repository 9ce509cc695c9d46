"""Service catalog: a declare naming a service invites its owner's on-call and bookmarks its links; follow-ups
go to its tracker; Backstage `catalog-info.yaml` files join `services:`."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlmodel import select

from bot.catalog import backstage
from bot.catalog.domain import bookmark_links, bridge_link, declared_service
from bot.config import ConfigError, parse_config
from bot.followups import bookmarks, service as followups
from bot.rotations import service as rotations
from storage.models import Incident, PostmortemRecord
from storage.tables_followups import IncidentBookmark
from storage.types import utcnow
from tests.conftest import REPORTER
from tests.rotations.helpers import CONFIG as ROTATION_CONFIG, start

FIXTURES = Path(__file__).parent / "fixtures"
SERVICE = {"name": "payments-api", "owner": "payments", "tracker": "github:acme/payments-api",
           "runbook": "https://wiki.example.com/runbooks/payments",
           "dashboards": ["https://grafana.example.com/d/a", "https://grafana.example.com/d/b"]}


def _config(**incidents) -> dict:
    cfg = copy.deepcopy(ROTATION_CONFIG)
    cfg["incidents"].update({"bridge_url": "https://meet.example.com/inc-{number}", **incidents})
    cfg["services"] = [SERVICE, {"name": "search", "tracker": "jira:SRCH"}]
    return cfg


def _bookmarks(fake, channel: str, count: int) -> list[dict]:
    return fake.wait_for(lambda f: (calls := [c.params for c in f.calls_to("bookmarks.add")
                                              if c.params.get("channel_id") == channel])[count - 1:] and calls)


def _recorded(h) -> int:
    with h.ctx.session() as s:
        return len(s.exec(select(IncidentBookmark)).all())


def test_declare_naming_a_service_invites_its_oncall_and_bookmarks_its_links(harness_factory):
    h = start(harness_factory, _config())
    oncall = rotations.on_call(h.ctx, "payments", at=utcnow())
    channel = h.declare("sev2 payments-api: Card payments failing")
    added = _bookmarks(h.fake, channel, 4)
    assert [(b["title"], b["link"], b["type"]) for b in added] == [
        ("payments-api runbook", SERVICE["runbook"], "link"),
        ("payments-api dashboard 1", SERVICE["dashboards"][0], "link"),
        ("payments-api dashboard 2", SERVICE["dashboards"][1], "link"),
        ("Video bridge", "https://meet.example.com/inc-1", "link")]
    h.fake.wait_for(lambda f: next((c for c in f.calls_to("conversations.invite")
                                    if c.params["channel"] == channel and c.params["users"] == oncall), None))
    h.fake.wait_for(lambda f: _recorded(h) == 4)  # recorded just after each Slack call
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
        assert followups.incident_tracker(h.ctx, s, inc).project == "acme/payments-api"
    # Running the hook again (a repair, a retry) adds nothing twice.
    bookmarks.on_declare(h.ctx, inc.id)
    assert len(h.fake.calls_to("bookmarks.add")) == 4


def test_a_failing_bookmark_never_breaks_the_declare(harness_factory):
    h = start(harness_factory, _config())
    h.fake.fail("bookmarks.add", error="missing_scope", times=10)
    channel = h.declare("sev2 payments-api: Card payments failing")
    reply = h.wait_response("declared")
    assert "Slack step failed" not in reply["text"] and channel
    h.fake.wait_for(lambda f: len(f.attempts("bookmarks.add")) == 4)  # each link tried, each refused
    assert h.fake.calls_to("bookmarks.add") == []
    with h.ctx.session() as s:
        assert s.exec(select(IncidentBookmark)).first() is None  # not recorded: tried again by a later run


def test_published_postmortem_is_bookmarked_once(harness_factory):
    h = start(harness_factory, _config(bridge_url=None))
    channel = h.declare("sev3 Refunds slow")
    with h.ctx.session() as s:
        inc = s.exec(select(Incident)).one()
        s.add(PostmortemRecord(incident_id=inc.id, markdown="# x", path="postmortems/inc-1.md",
                               branch="postmortem/inc-1", commit_sha="abc", pr_url="https://github.com/acme/pm/pull/9",
                               published_at=utcnow()))
    assert bookmarks.bookmark_postmortems(h.ctx) == 1
    assert bookmarks.bookmark_postmortems(h.ctx) == 0
    (call,) = [c.params for c in h.fake.calls_to("bookmarks.add") if c.params.get("channel_id") == channel]
    assert (call["title"], call["link"]) == ("Postmortem", "https://github.com/acme/pm/pull/9")


def test_declared_service_is_the_title_prefix_naming_a_catalog_service():
    services = parse_config({"rotations": ROTATION_CONFIG["rotations"], "services": [SERVICE]}).services
    assert declared_service("payments-api: Card payments failing", services) == "payments-api"
    assert declared_service("PAYMENTS-API:  failing", services) == "payments-api"
    assert declared_service("DB: slow queries", services) is None  # not a service: an ordinary title
    assert declared_service("payments-api is failing", services) is None
    assert [kind for kind, _, _ in bookmark_links(services[0])] == ["runbook", "dashboard", "dashboard"]
    assert bridge_link("https://meet.example.com/{channel}/{number}", 7, "C1") == "https://meet.example.com/C1/7"
    assert bridge_link("https://meet.example.com/{room}", 7, "C1") is None


def test_bad_bridge_url_template_is_a_config_error():
    with pytest.raises(ConfigError) as exc:
        parse_config({"incidents": {"bridge_url": "https://meet.example.com/{room}"}})
    assert any(p.startswith("incidents.bridge_url:") for p in exc.value.problems)


def test_backstage_components_are_mapped_and_merged_with_services():
    found, problems = backstage.load_components(["fixtures/*.yaml"], Path(__file__).parent)
    assert problems == []
    by_name = {s["name"]: s for s in found}
    assert set(by_name) == {"payments-api", "search"}  # the API entity is not a Component
    assert by_name["payments-api"] == {
        "name": "payments-api", "owner": "payments", "tracker": "github:acme/payments-api",
        "runbook": "https://wiki.example.com/runbooks/payments", "dashboards": ["https://grafana.example.com/d/payments"],
        "pagerduty_service_id": "PABC123"}
    assert "must-never-be-read" not in repr(found)
    assert by_name["search"]["tracker"] == "jira:SRCH" and len(by_name["search"]["dashboards"]) == 2

    data = {"rotations": ROTATION_CONFIG["rotations"], "catalog": {"backstage_paths": ["fixtures/*.yaml"]},
            "services": [{"name": "search", "runbook": "https://wiki.example.com/search-v2", "owner": None}]}
    merged, problems = backstage.expand(data, Path(__file__).parent)
    services = {s["name"]: s for s in merged["services"]}
    assert services["search"]["runbook"] == "https://wiki.example.com/search-v2"  # `services:` wins
    assert services["search"]["tracker"] == "jira:SRCH"  # Backstage fills the rest
    cfg = parse_config({k: v for k, v in merged.items() if k != "catalog"})
    assert cfg.service("payments-api").owner == "payments"


def test_backstage_glob_matching_nothing_is_reported(tmp_path):
    (tmp_path / "bad.yaml").write_text("kind: Component\nmetadata: {name: [unclosed\n")
    _, problems = backstage.load_components(["nothing/*.yaml", "bad.yaml"], tmp_path)
    assert problems[0] == "catalog.backstage_paths[0]: 'nothing/*.yaml' matches no file"
    assert problems[1].startswith("catalog.backstage_paths[1]:")


def test_declare_reporter_is_not_reinvited_as_owner(harness_factory):
    h = start(harness_factory, _config())
    channel = h.declare("sev2 search: results empty")  # search has no owner rotation: no extra invite
    _bookmarks(h.fake, channel, 1)
    invites = [c for c in h.fake.calls_to("conversations.invite") if c.params["channel"] == channel]
    assert [c.params["users"] for c in invites] == [REPORTER]


def test_load_config_reads_the_backstage_files_named_in_the_catalog(tmp_path):
    import shutil

    import yaml

    from bot.config import ConfigError, load_config

    shutil.copy(Path(__file__).parent / "fixtures" / "catalog-info.yaml", tmp_path / "catalog-info.yaml")
    config_file = tmp_path / "firewatch.yaml"
    config_file.write_text(yaml.safe_dump({"rotations": ROTATION_CONFIG["rotations"],
                                           "catalog": {"backstage_paths": ["catalog-info.yaml"]},
                                           "services": [{"name": "search", "owner": None}]}))
    cfg = load_config(config_file)
    assert cfg.service("payments-api").owner == "payments"
    config_file.write_text(yaml.safe_dump({"catalog": {"backstage_paths": ["missing/*.yaml"]}}))
    with pytest.raises(ConfigError) as err:
        load_config(config_file)
    assert "matches no file" in err.value.problems[0]
