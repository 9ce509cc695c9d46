"""Accept/Dismiss on each root-cause hypothesis is recorded with the kind of evidence it rests on; only incident
participants may judge; the first decision stands; `firewatch report assist` shows precision per kind."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlmodel import select

from bot.assist.feedback import precision_lines
from bot.assist.messages import HYPOTHESIS_ACCEPT_ACTION_ID, HYPOTHESIS_DISMISS_ACTION_ID
from storage.models import ChangeEventRecord
from storage.tables_telemetry import HypothesisFeedback
from tests.assist.conftest import CONFIG, blocks_of, wait_post
from tests.conftest import BOB, REPORTER


def hypothesis_buttons(call) -> list[tuple[str, str]]:
    return [(el["action_id"], el["value"]) for b in blocks_of(call) if b.get("type") == "actions"
            for el in b["elements"]]


def test_hypothesis_feedback_recorded_once_by_participants_and_reported(harness_factory):
    h = harness_factory(CONFIG)
    channel = h.declare("sev2 Checkout API returning 500s on payments-api")
    with h.ctx.session() as s:
        for version in ("2.4.1", "2.4.2"):
            s.add(ChangeEventRecord(service="payments-api", version=version, description="tokenizer",
                                    timestamp=datetime.now(timezone.utc) - timedelta(minutes=10)))
    h.command("rca", channel=channel)
    post = wait_post(h, channel, "Root-cause hypotheses")[0]
    buttons = hypothesis_buttons(post)
    assert (HYPOTHESIS_ACCEPT_ACTION_ID, buttons[0][1]) in buttons and len(buttons) >= 4  # two per hypothesis
    first, second = buttons[0][1], buttons[2][1]
    assert first.endswith(":1") and second.endswith(":2")

    def click(action: str, value: str, user: str) -> str:
        before = len(h.responses())
        assert h.sender.block_action(action, value, user=user, channel=channel, message_ts=post.response["ts"]
                                     ).status_code == 200
        return h.fake.wait_for(lambda f: h.responses()[before:])[-1]["text"]

    assert "Only people in" in click(HYPOTHESIS_ACCEPT_ACTION_ID, first, BOB)  # not in the incident
    assert "Recorded: hypothesis 1 accepted" in click(HYPOTHESIS_ACCEPT_ACTION_ID, first, REPORTER)
    assert "already judged" in click(HYPOTHESIS_DISMISS_ACTION_ID, first, REPORTER)
    assert "Recorded: hypothesis 2 dismissed" in click(HYPOTHESIS_DISMISS_ACTION_ID, second, REPORTER)
    assert "does not name a hypothesis" in click(HYPOTHESIS_ACCEPT_ACTION_ID, "garbage", REPORTER)
    with h.ctx.session() as s:
        rows = s.exec(select(HypothesisFeedback).order_by(HypothesisFeedback.rank)).all()
    assert [(r.rank, r.kind, r.decision, r.decided_by) for r in rows] == [
        (1, "rca:change", "accepted", REPORTER), (2, "rca:change", "dismissed", REPORTER)]
    # The message now says who decided instead of offering the buttons again for those hypotheses.
    update = h.fake.calls_to("chat.update")[-1]
    assert not hypothesis_buttons(update) and "Dismissed by <@U0REPORTER>" in str(blocks_of(update))
    lines = precision_lines(h.ctx)
    assert any(line.split() == ["rca:change", "1", "1", "50%"] for line in lines)


def test_report_assist_command_without_feedback(harness_factory, tmp_path, monkeypatch):
    import yaml

    from bot.cli import main

    h = harness_factory(CONFIG)
    monkeypatch.setenv("FIREWATCH_DATABASE_URL", str(h.ctx.engine.url.render_as_string(hide_password=False)))
    cfg = tmp_path / "firewatch.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    result = CliRunner().invoke(main, ["report", "assist", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "No suggestion has been accepted or dismissed yet." in result.output
