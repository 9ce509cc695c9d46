"""A page's escalation survives the process being killed (SIGKILL) while the timeout is pending."""

from __future__ import annotations

import os
import signal
import time

import yaml

from bot.devtools.signed_requests import SlackSender
from tests.conftest import BOT_TOKEN, REPORTER, SIGNING_SECRET
from tests.paging.conftest import LEAD, paging_config
from tests.processes import free_port, start_server, stop_server


def test_escalation_happens_after_sigkill_and_restart(tmp_path, database_url, fake_slack):
    fake = fake_slack.fake
    fake.add_user(LEAD, "Lee")
    config = paging_config(first_timeout="4s", second_timeout="30m")
    path = tmp_path / "firewatch.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "FIREWATCH_SLACK_API_URL": fake_slack.api_url, "FIREWATCH_DATABASE_URL": database_url,
           "FIREWATCH_CONFIG": str(path)}
    port = free_port()
    first = start_server(env, port, tmp_path)
    try:
        sender = SlackSender(f"http://127.0.0.1:{port}", SIGNING_SECRET, response_url=fake_slack.response_url())
        assert sender.command("/page", "payments Checkout down", user=REPORTER).status_code == 200
        fake.wait_for(lambda f: f.calls_to("conversations.open"), timeout=15)
        fake.wait_for(lambda f: any(r for r in f.responses if "sent to" in (r.get("text") or "")), timeout=15)
        killed_at = time.monotonic()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    first_paged = [c.params["users"] for c in fake.calls_to("conversations.open")]
    assert len(first_paged) == 1 and first_paged[0] != LEAD  # step 1: the rotation's on-call

    time.sleep(max(0.0, 5 - (time.monotonic() - killed_at)))  # the timeout falls due while nobody is running
    assert [c.params["users"] for c in fake.calls_to("conversations.open")] == first_paged
    second = start_server(env, free_port(), tmp_path)
    try:
        opened = fake.wait_for(lambda f: [c for c in f.calls_to("conversations.open") if c.params["users"] == LEAD],
                               timeout=30)
        assert len(opened) == 1
        escalated = fake.wait_for(lambda f: [c for c in f.calls_to("chat.postMessage")
                                             if "Nobody acknowledged in time; escalated" in (c.params.get("text") or "")])
        assert "Lee" in escalated[0].params["text"] or LEAD in escalated[0].params["text"]
    finally:
        stop_server(second)
