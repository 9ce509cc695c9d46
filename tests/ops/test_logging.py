"""Structured logs: JSON lines with the request's ids, secrets never written, poll and bolt noise below INFO."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest
from slack_bolt.logger import messages

from bot.correlation import ContextCopyingExecutor, bind_incident, bind_page, new_correlation_id, \
    reset_request_context
from bot.ops.logs import REDACTED, configure_logging, redact_also
from tests.conftest import BOT_TOKEN, SIGNING_SECRET

NOISY = ("alembic", "apscheduler.executors", "apscheduler.scheduler", "apscheduler.jobstores")


@pytest.fixture
def captured():
    """Our handler writing into a buffer; the root logger and the quietened loggers restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, {n: logging.getLogger(n).level for n in NOISY})
    stream = io.StringIO()

    def install(fmt: str, *, verbose: bool = False, secrets=(BOT_TOKEN, SIGNING_SECRET)):
        configure_logging(fmt, verbose=verbose, secrets=secrets, stream=stream)
        return stream

    yield install
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)
    reset_request_context()


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_request_incident_and_page_ids(captured):
    stream = captured("json")
    cid = new_correlation_id()
    bind_incident(42)
    bind_page(7)
    logging.getLogger("bot.paging").info("escalated to step %d", 2)
    [line] = json_lines(stream)
    assert line["message"] == "escalated to step 2"
    assert (line["request_id"], line["incident"], line["page_id"]) == (cid, 42, 7)
    assert line["level"] == "INFO" and line["logger"] == "bot.paging"


def test_text_format_shows_the_request_id(captured):
    stream = captured("text")
    cid = new_correlation_id()
    logging.getLogger("bot.web").warning("slow")
    assert f"[{cid}]: slow" in stream.getvalue()


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="json or text"):
        configure_logging("yaml")


def test_secrets_are_redacted_from_messages_and_tracebacks(captured):
    stream = captured("json")
    redact_also(["late-config-secret-123"])
    log = logging.getLogger("bot.anything")
    log.info("token is %s", BOT_TOKEN)
    try:
        raise RuntimeError(f"auth failed for {SIGNING_SECRET} and late-config-secret-123")
    except RuntimeError:
        log.exception("boom")
    text = stream.getvalue()
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text and "late-config-secret-123" not in text
    assert text.count(REDACTED) >= 3


def test_a_whole_incident_at_debug_never_logs_the_bot_token(captured, harness):
    stream = captured("json", verbose=True)
    harness.declare()
    lines = json_lines(stream)  # every line is JSON
    assert lines, "debug logging produced nothing"
    assert BOT_TOKEN not in stream.getvalue()
    assert any("request_id" in line for line in lines)


def test_poll_lines_and_bolt_startup_warning_stay_below_info(captured):
    stream = captured("text")
    assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
    logging.getLogger("slack_bolt.App").warning(messages.warning_token_skipped())
    logging.getLogger("slack_bolt.App").warning("a real bolt warning")
    assert "a real bolt warning" in stream.getvalue()
    assert messages.warning_token_skipped() not in stream.getvalue()


def test_pooled_listener_threads_see_their_own_request_id():
    from bot.correlation import current_correlation_id

    with ContextCopyingExecutor(max_workers=1) as pool:
        first = new_correlation_id()
        assert pool.submit(current_correlation_id).result() == first
        second = new_correlation_id()
        assert pool.submit(current_correlation_id).result() == second


PRIVATE_TITLE = "Acquisition of Zebracorp leaked"


@pytest.mark.parametrize("verbose", [False, True], ids=["info", "debug"])
def test_a_private_incident_title_never_reaches_the_logs(captured, harness_factory, verbose):
    """Declared privately, with Slack failing some set-up calls (warnings and retries get logged): the title
    appears in no log line, at INFO or at DEBUG."""
    stream = captured("json", verbose=verbose)
    h = harness_factory({"incidents": {"private_by_default": True, "announcements_channel": "C0ANNOUNCE"}})
    h.fake.add_channel("C0ANNOUNCE", "incidents")
    h.fake.fail("conversations.setTopic", status=500, times=3)  # beyond the client's 2 retries: logged
    assert h.command(f"declare sev2 {PRIVATE_TITLE}").status_code == 200
    deadline = time.monotonic() + 20
    while "Slack set-up step failed" not in stream.getvalue():  # the failed step is logged, then set-up stops
        assert time.monotonic() < deadline, stream.getvalue()[-2000:]
        time.sleep(0.05)
    [created] = h.fake.calls_to("conversations.create")
    assert created.response["channel"]["is_private"]
    assert PRIVATE_TITLE.lower().replace(" ", "-") in created.params["name"]  # Slack has it; the logs must not
    text = stream.getvalue()
    assert json_lines(stream), "nothing was logged"
    assert any(line["level"] == "WARNING" for line in json_lines(stream)), text[-2000:]
    assert PRIVATE_TITLE not in text and PRIVATE_TITLE.lower().replace(" ", "-") not in text
