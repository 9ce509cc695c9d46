"""The `page_reached` / `page_closed` hooks other channels (SMS, voice) build on, and the page metrics."""

from __future__ import annotations

from bot.core import metrics
from bot.paging import flows
from bot.paging.messages import PageContent
from bot.rotations import service as oncall
from tests.paging.conftest import LEAD


def _count(event: str) -> float:
    return metrics.REGISTRY.get_sample_value("firewatch_pages_total", {"event": event}) or 0.0


def _hooked(h):
    reached, closed = [], []
    h.ctx.services.page_reached.append(lambda ctx, page_id, user: reached.append((page_id, user)))
    h.ctx.services.page_closed.append(lambda ctx, page_id, status: closed.append((page_id, status)))
    return reached, closed


def test_reached_fires_once_per_person_per_step_and_closed_once_on_acknowledge(paging):
    h = paging()
    reached, closed = _hooked(h)
    before = {e: _count(e) for e in ("opened", "escalated", "acknowledged")}
    page_id = flows.create_page(h.ctx, policy_name="payments", content=PageContent(title="Checkout down"),
                                requester=None, source="test", channel_id=None)
    first = oncall.on_call(h.ctx, "payments")
    assert reached == [(page_id, first)]
    flows.on_step_timeout(h.ctx, page_id, 1, 0)
    flows.on_step_timeout(h.ctx, page_id, 1, 0)  # a late duplicate timer: no second escalation, no second hook
    assert reached == [(page_id, first), (page_id, LEAD)]
    assert closed == []
    assert flows.acknowledge(h.ctx, page_id, LEAD)[0]
    assert not flows.acknowledge(h.ctx, page_id, LEAD)[0]
    assert closed == [(page_id, "acknowledged")]
    assert flows.resolve(h.ctx, page_id, actor=LEAD)  # acknowledged, then resolved: a second, distinct event
    assert closed == [(page_id, "acknowledged"), (page_id, "resolved")]
    assert _count("opened") - before["opened"] == 1
    assert _count("escalated") - before["escalated"] == 1
    assert _count("acknowledged") - before["acknowledged"] == 1


def test_closed_fires_once_on_resolve_and_a_failing_hook_does_not_stop_the_page(paging):
    h = paging()

    def broken(ctx, page_id, user):
        raise RuntimeError("sms gateway down")

    h.ctx.services.page_reached.append(broken)
    reached, closed = _hooked(h)
    page_id = flows.create_page(h.ctx, policy_name="payments", content=PageContent(title="Disk full"),
                                requester=None, source="test", channel_id=None)
    assert reached == [(page_id, oncall.on_call(h.ctx, "payments"))]
    assert flows.resolve(h.ctx, page_id, actor=None, by_alert=True)
    assert not flows.resolve(h.ctx, page_id, actor=None, by_alert=True)
    assert closed == [(page_id, "resolved")]


def test_page_work_binds_its_page_id_for_log_lines(paging):
    import contextvars

    from bot.correlation import current_page

    h = paging()
    page_id = flows.create_page(h.ctx, policy_name="payments", content=PageContent(title="Queue stuck"),
                                requester=None, source="test", channel_id=None)

    def acknowledged_then_bound():
        flows.acknowledge(h.ctx, page_id, LEAD)
        return current_page()

    # A fresh context, as a new request or job has: the page id is bound by the work itself.
    assert contextvars.Context().run(acknowledged_then_bound) == page_id
