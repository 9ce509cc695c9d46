"""`/incident` summaries show budget impact: one line per SLO of the incident's services, cached a minute per SLO,
and nothing (never an error) when Prometheus is down. Prometheus answers through respx (documented vector shape)."""

from __future__ import annotations

import json

import httpx
import respx
from sqlmodel import col, select

from bot.incidents import messages
from bot.telemetry import service
from storage.models import Incident
from tests.assist.conftest import dump, join_assist_threads, wait_triage
from tests.telemetry.test_budget_severity import URL, answer, config

LINE = "Error budget: checkout-availability 60% left · burning 20× (1 h)"  # hand-worked in test_budget_severity
# the same counts at 99 %: 0.04 % errors over 28 d is 4 % of a 1 % budget; 2 % over 1 h burns 2×
LINES = [LINE, "Error budget: checkout-relaxed 96% left · burning 2× (1 h)"]


def declared(h, text: str, *, triaged: bool = True) -> Incident:
    channel = h.declare(text)
    if triaged:  # the burn raises the severity, so a triage message is posted
        wait_triage(h, channel)
    join_assist_threads(h)
    with h.ctx.session() as s:  # the newest incident (its channel id may be stored a moment after the channel exists)
        return s.exec(select(Incident).order_by(col(Incident.id).desc())).first()


def test_budget_lines_cached_per_slo_and_shown_in_summary(harness_factory, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(service, "_clock", lambda: clock[0])
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()
        prom = router.get(f"{URL}/api/v1/query").mock(side_effect=answer)
        cfg = config()
        cfg["slos"].append({**cfg["slos"][0], "name": "checkout-relaxed", "objective": 0.99})
        h = harness_factory(cfg)
        incident = declared(h, "sev3 checkout is slow")
        clock[0] += 61  # past whatever the declare's own summary measured
        before = prom.call_count
        assert service.budget_lines_for(h.ctx, incident.id) == LINES
        measured = prom.call_count - before
        assert measured == 20  # per SLO, good and total over the 28-day window and the four burn windows
        clock[0] += 30
        assert service.budget_lines_for(h.ctx, incident.id) == LINES
        assert prom.call_count - before == measured  # within a minute: from the cache
        clock[0] += 31
        prom.mock(side_effect=httpx.ConnectError("refused"))
        assert service.budget_lines_for(h.ctx, incident.id) == []  # an outage: no line, no exception
        assert prom.call_count - before == measured + 1  # Prometheus down: the second SLO is not even tried
        other = declared(h, "sev3 search index lagging", triaged=False)
        assert service.budget_lines_for(h.ctx, other.id) == []  # no SLO for that service: no Prometheus call
        assert prom.call_count - before == measured + 1
    blocks = json.dumps(messages.summary_blocks(incident, {}, "inc", budget_lines=[LINE]), ensure_ascii=False)
    assert LINE in blocks
    assert "Error budget" not in json.dumps(messages.summary_blocks(incident, {}, "inc"))


def test_no_prometheus_no_budget_lines(harness_factory):
    cfg = config()
    del cfg["evidence"]
    h = harness_factory(cfg)
    incident = declared(h, "sev3 checkout is slow", triaged=False)
    assert service.budget_lines_for(h.ctx, incident.id) == []


def test_pinned_summary_shows_budget_line_after_declare(harness_factory):
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()
        router.get(f"{URL}/api/v1/query").mock(side_effect=answer)
        h = harness_factory(config())
        incident = declared(h, "sev3 checkout is slow")
    summary = next(c for c in h.fake.calls_to("chat.postMessage")
                   if c.params.get("channel") == incident.channel_id and "Roles" in dump(c))
    assert LINE in dump(summary)
