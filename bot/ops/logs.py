"""Process logging: `FIREWATCH_LOG_FORMAT=json|text`, request/incident/page ids on every line, secrets redacted,
and the noise operators never want at INFO (APScheduler's 15-second poll runs, bolt's start-up warnings) demoted.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import IO, Iterable

from bot.correlation import current_correlation_id, current_incident, current_page

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
REDACTED = "[redacted]"
# Their INFO lines are one per job run (the store poll runs every 15 s) and per job added: debug material.
QUIET_LOGGERS = ("apscheduler.executors", "apscheduler.scheduler", "apscheduler.jobstores")
_HANDLER_MARK = "firewatch_handler"


def _bolt_startup_warnings() -> set[str]:
    """Bolt's start-up advice about how the App was built: right for a tutorial, noise in our logs."""
    from slack_bolt.logger import messages

    return {messages.warning_client_prioritized_and_token_skipped(), messages.warning_token_skipped(),
            messages.warning_installation_store_conflicts(), messages.warning_bot_only_conflicts()}


class RequestContextFilter(logging.Filter):
    """Adds request_id, incident and page_id to every record, and demotes bolt's start-up warnings to DEBUG."""

    def __init__(self) -> None:
        super().__init__()
        self._bolt_startup = _bolt_startup_warnings()

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_correlation_id() or "-"
        record.incident = current_incident()
        record.page_id = current_page()
        if record.name.startswith("slack_bolt") and record.getMessage() in self._bolt_startup:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; ids only when known."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for key in ("request_id", "incident", "page_id"):
            value = getattr(record, key, None)
            if value not in (None, "-"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class RedactingFormatter(logging.Formatter):
    """Wraps a formatter and removes secret values from the finished line (message, arguments and traceback)."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]):
        super().__init__()
        self.inner = inner
        # Longest first, so a secret containing another is removed whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = self.inner.format(record)
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text


def configure_logging(log_format: str | None, *, verbose: bool = False, secrets: Iterable[str] = (),
                      stream: IO[str] | None = None) -> logging.Handler | None:
    """Install Firewatch's one root handler (replacing an earlier one of ours), unless another program owns the
    root logger's output and no `stream` is given. Unknown formats are an error."""
    fmt = (log_format or "text").strip().lower()
    if fmt not in LOG_FORMATS:
        raise ValueError(f"FIREWATCH_LOG_FORMAT must be json or text, not {log_format!r}")
    root = logging.getLogger()
    _quieten(verbose)
    foreign = [h for h in root.handlers if not getattr(h, _HANDLER_MARK, False)]
    if stream is None and foreign:
        # Someone (pytest's log capture, an embedding program) already owns the output, as with basicConfig.
        return None
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler = logging.StreamHandler(stream or sys.stderr)
    inner = JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(RedactingFormatter(inner, secrets))
    handler.addFilter(RequestContextFilter())
    setattr(handler, _HANDLER_MARK, True)
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    return handler


def _quieten(verbose: bool) -> None:
    if not verbose:
        # Alembic announces every plugin it loads at INFO; operators only need its warnings.
        for name in ("alembic", *QUIET_LOGGERS):
            logging.getLogger(name).setLevel(logging.WARNING)


def redact_also(values: Iterable[str | None]) -> None:
    """Add secrets known only once firewatch.yaml is read (its `*_env` names) to our handler's redaction."""
    for handler in logging.getLogger().handlers:
        formatter = handler.formatter
        if getattr(handler, _HANDLER_MARK, False) and isinstance(formatter, RedactingFormatter):
            merged = set(formatter.secrets) | {v for v in values if v and len(v) >= 6}
            formatter.secrets = sorted(merged, key=len, reverse=True)
