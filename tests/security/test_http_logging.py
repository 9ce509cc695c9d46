"""Log hygiene: no forged log lines from request text, no query strings (calendar tokens) in access logs."""

from __future__ import annotations

import logging

import httpx

from bot.safety import escape_log_text, install_log_hygiene


def test_newlines_in_messages_and_arguments_are_escaped(caplog):
    install_log_hygiene()
    log = logging.getLogger("bot.some.feature")
    with caplog.at_level(logging.INFO, logger="bot"):
        log.info("declared %s by %s (%d)", "Outage\n2026-01-01 INFO admin granted", "U1\r\nX", 7)
        log.info("raw\nmessage")
        log.info("exception %s", ValueError("two\nlines"))
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["declared Outage\\n2026-01-01 INFO admin granted by U1\\r\\nX (7)", "raw\\nmessage",
                        "exception two\\nlines"]
    assert not any("\n" in m or "\r" in m for m in messages)


def test_other_libraries_loggers_are_left_alone(caplog):
    install_log_hygiene()
    with caplog.at_level(logging.INFO, logger="thirdparty"):
        logging.getLogger("thirdparty").info("a\nb")
    assert caplog.records[-1].getMessage() == "a\nb"


def test_tracebacks_keep_their_lines(caplog):
    install_log_hygiene()
    with caplog.at_level(logging.ERROR, logger="bot"):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("bot.x").exception("failed")
    assert "Traceback" in caplog.text and "\n" in caplog.text


def test_escape_log_text():
    assert escape_log_text("a\r\nb\nc") == "a\\r\\nb\\nc"


def test_a_forged_line_in_a_command_does_not_reach_the_log_as_a_line(harness, caplog):
    with caplog.at_level(logging.DEBUG):
        harness.command("frobnicate\nERROR forged line")
    assert not any(line.lstrip().startswith("ERROR forged") for line in caplog.text.splitlines())


def test_access_log_has_the_path_but_never_the_query(harness, caplog):
    with caplog.at_level(logging.INFO, logger="bot.http.access"):
        httpx.get(harness.running.url + "/oncall/payments.ics?token=SECRET-CALENDAR-TOKEN")
        httpx.get(harness.running.url + "/healthz?x=1")
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.http.access"]
    assert any(line.startswith("GET /oncall/payments.ics ") for line in lines)
    assert "GET /healthz 200" in lines
    assert "SECRET-CALENDAR-TOKEN" not in caplog.text
