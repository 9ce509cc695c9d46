"""Issue 15, service catalog: alert routes name a service instead of a policy (its policy, else its owner
rotation's, is paged and the incident is the service's); triage names the incident's service and suggests its
owner rotation."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
from sqlmodel import select

from bot.assist.domain import Incident, RotationOption, SeverityOption, triage
from bot.assist.domain.heuristic import ServiceOwner
from bot.assist.domain.triage import owners_first
from bot.config import ConfigError, parse_config
from bot.paging.domain.config import AlertRouteConfig
from bot.paging.domain.routing import policy_for_route, route_for
from bot.rotations import service as oncall
from storage.models import AlertRecord, Incident as IncidentRow, SuggestionRecord
from tests.assist.conftest import CONFIG as ASSIST_CONFIG, by_task, completion, dump, request_texts, wait_triage
from tests.assist.conftest import llm_env, llm_route  # noqa: F401 - fixtures
from tests.paging.conftest import FALLBACK, LEAD, PAYMENTS_CHANNEL, TOKEN, load, paging_config
from tests.conftest import ALICE

RUNBOOK = "https://wiki.example.com/runbooks/checkout"
CHECKOUT = {"name": "checkout", "owner": "payments", "runbook": RUNBOOK}
LEAD_POLICY = {"name": "lead-only", "steps": [{"notify": f"user:{LEAD}", "timeout": "30m"}]}


def _start(harness_factory, monkeypatch, *, routes, services, policies=()):
    monkeypatch.setenv("FIREWATCH_WEBHOOK_TOKEN", TOKEN)
    cfg = paging_config()
    cfg["escalation_policies"] += list(policies)
    cfg["alert_routes"], cfg["services"] = routes, services
    h = harness_factory(cfg)
    h.fake.add_user(LEAD, "Lee")
    h.fake.add_channel(PAYMENTS_CHANNEL, "payments")
    h.fake.add_channel(FALLBACK, "alerts")
    return h


def _fire(h, **labels) -> None:
    body = load("alertmanager_firing.json")
    body["alerts"][0]["labels"].update(labels)
    r = httpx.post(h.running.url + "/webhooks/alertmanager", content=json.dumps(body).encode(),
                   headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert r.status_code == 200 and r.json()["new"] == 1, r.text


def _dm_users(h) -> list[str]:
    opened = h.fake.wait_for(lambda f: f.calls_to("conversations.open"))
    return [c.params["users"] for c in opened]


def _route_policy(h) -> str | None:
    """The policy recorded on the alert (written just after its page's first DM)."""
    def recorded(_fake):
        with h.ctx.session() as s:
            return s.exec(select(AlertRecord)).one().route_policy
    return h.fake.wait_for(recorded)


def test_route_naming_a_service_pages_its_owner_rotations_policy(harness_factory, monkeypatch):
    h = _start(harness_factory, monkeypatch, routes=[{"match": {"alertname": "Fire"}, "service": "checkout"}],
               services=[CHECKOUT])
    _fire(h)
    assert _dm_users(h) == [oncall.on_call(h.ctx, "payments")]
    # The owner rotation's policy (its first step pages rotation:payments), so the escalation goes on to the lead.
    assert _route_policy(h) == "payments"


def test_route_naming_a_service_follows_the_services_own_policy(harness_factory, monkeypatch):
    svc = {**CHECKOUT, "escalation_policy": "lead-only"}
    h = _start(harness_factory, monkeypatch, routes=[{"service": "checkout"}], services=[svc], policies=[LEAD_POLICY])
    _fire(h)
    assert _dm_users(h) == [LEAD]
    assert _route_policy(h) == "lead-only"


def test_unrouted_alert_with_a_service_label_uses_the_catalog(harness_factory, monkeypatch):
    h = _start(harness_factory, monkeypatch, routes=[{"match": {"alertname": "Other"}, "policy": "payments"}],
               services=[{**CHECKOUT, "escalation_policy": "lead-only"}], policies=[LEAD_POLICY])
    _fire(h, service="checkout")
    assert _dm_users(h) == [LEAD]
    # Without a service label (or naming no catalog service) it stays unrouted: reported in the fallback channel.
    assert route_for({"alertname": "Fire", "service": "nope"}, h.ctx.config.alert_routes, h.ctx.config.services,
                     h.ctx.config.escalation_policies) is None


def test_service_route_incident_is_the_services(harness_factory, monkeypatch):
    h = _start(harness_factory, monkeypatch, services=[CHECKOUT],
               routes=[{"match": {"alertname": "Fire"}, "service": "checkout", "open_incident": True}])
    _fire(h)
    added = h.fake.wait_for(lambda f: f.calls_to("bookmarks.add"))
    assert [(b.params["title"], b.params["link"]) for b in added] == [("checkout runbook", RUNBOOK)]
    with h.ctx.session() as s:
        incident = s.exec(select(IncidentRow)).one()
    assert incident.title.startswith("[alert] checkout: ") and "Fire" in incident.title
    assert added[0].params["channel_id"] == incident.channel_id
    # The service owner's on-call is invited as the service's, as for a declare naming it.
    h.fake.wait_for(lambda f: [c for c in f.calls_to("chat.postMessage") if c.params["channel"] == incident.channel_id
                               and "on call for *checkout*" in (c.params.get("text") or "")])


def _cfg(routes, services) -> dict:
    cfg = paging_config()
    cfg["alert_routes"], cfg["services"] = routes, services
    return cfg


def test_route_service_config_errors_name_the_key():
    with pytest.raises(ConfigError) as unknown:
        parse_config(_cfg([{"match": {"alertname": "Fire"}, "service": "chekout"}], [CHECKOUT]))
    assert any(p.startswith("alert_routes[0].service: unknown service 'chekout'") and "checkout" in p
               for p in unknown.value.problems), unknown.value.problems
    with pytest.raises(ConfigError) as ownerless:
        parse_config(_cfg([{"service": "search"}], [{"name": "search"}]))
    assert any(p.startswith("alert_routes[0].service: service 'search' has neither escalation_policy nor owner")
               for p in ownerless.value.problems), ownerless.value.problems
    with pytest.raises(ConfigError) as neither:
        parse_config(_cfg([{"match": {"alertname": "Fire"}}], [CHECKOUT]))
    assert any("alert_routes[0]" in p and "needs a policy" in p for p in neither.value.problems)
    # A policy given with the service wins; the service still names the incident.
    cfg = parse_config(_cfg([{"service": "checkout", "policy": "payments"}], [{"name": "checkout"}]))
    assert policy_for_route(cfg.alert_routes[0], cfg.services, cfg.escalation_policies) == "payments"


def test_owner_without_a_policy_gets_the_adhoc_one():
    route = AlertRouteConfig(service="checkout")
    cfg = parse_config({"rotations": paging_config()["rotations"], "services": [CHECKOUT]})
    assert policy_for_route(route, cfg.services, cfg.escalation_policies) == "adhoc:rotation:payments"


SEVERITIES = [SeverityOption("sev1", "critical"), SeverityOption("sev2", "major"), SeverityOption("sev3", "minor")]
ROTATIONS = [RotationOption("search"), RotationOption("payments")]


def test_heuristic_prefers_the_catalog_owner_over_label_guesses():
    catalog = [ServiceOwner("checkout", "payments")]
    result = triage(Incident("checkout: search results missing", severity="sev2"), [], SEVERITIES, ROTATIONS, None,
                    catalog=catalog)
    assert result.suggested_owner == "payments"  # not "search", which the title also names
    assert result.summary.startswith("Service: checkout (owner: payments).")
    assert result.affected_services[0] == "checkout"
    without = triage(Incident("checkout: search results missing", severity="sev2"), [], SEVERITIES, ROTATIONS, None)
    assert without.suggested_owner != "payments" and "Service:" not in without.summary


def _catalog_config() -> dict:
    cfg = copy.deepcopy(ASSIST_CONFIG)
    cfg["rotations"].append({"name": "web", "members": [{"user": ALICE}], "rules": {"min_rest_shifts": 0}})
    cfg["services"] = [{"name": "checkout", "owner": "payments"}, {"name": "storefront", "owner": "web"}]
    return cfg


def test_declare_naming_a_service_gets_a_triage_naming_it_and_its_owner(harness_factory):
    h = harness_factory(_catalog_config())
    channel = h.declare("sev2 checkout: card payments failing")
    post = wait_triage(h, channel)
    assert "Service: checkout (owner: payments)" in dump(post)
    with h.ctx.session() as s:
        row = s.exec(select(SuggestionRecord)).one()
    suggestion = row.payload["suggestion"]
    assert row.source == "heuristic" and suggestion["suggested_owner"] == "payments"
    assert suggestion["affected_services"][0] == "checkout"


def test_llm_rotation_options_list_the_services_owner_first():
    ordered = owners_first([RotationOption("search", ("storefront",)), RotationOption("payments", ("checkout",))],
                           [ServiceOwner("checkout", "payments")])
    assert [r.name for r in ordered] == ["payments", "search"]
    assert ordered[0].services == ("checkout",)  # the prompt shows "payments (services: checkout)"


def test_llm_triage_without_an_owner_gets_the_services(harness_factory, llm_route):
    reply = {"severity": "sev2", "affected_services": [], "suggested_owner": None, "summary": "Card payments fail.",
             "first_steps": [{"text": "Check the error dashboards", "url": None}], "confidence": 0.6,
             "evidence_ids": []}
    llm_route.mock(side_effect=by_task(triage=completion(reply)))
    h = harness_factory(_catalog_config())
    channel = h.declare("sev2 checkout: card payments failing")
    wait_triage(h, channel)
    assert "payments (services: checkout)" in request_texts(llm_route)
    with h.ctx.session() as s:
        row = s.exec(select(SuggestionRecord)).one()
    suggestion = row.payload["suggestion"]
    assert row.source == "llm" and suggestion["suggested_owner"] == "payments"
    assert suggestion["summary"] == "Service: checkout (owner: payments). Card payments fail."
