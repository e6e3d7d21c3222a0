"""Real Switchboard processes for tests: `switchboard serve` and `switchboard worker`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from switchboard.worker import READY_LOG

SWITCHBOARD = [sys.executable, "-m", "switchboard"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "SWITCHBOARD_"))}
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Proc:
    """A child process whose output goes to a log file."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.log = log
        self._logf = log.open("ab")
        self.popen = subprocess.Popen(args, env=process_env(env), stdout=self._logf, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._logf.close()
        return self.popen.returncode

    def kill(self) -> None:
        self.popen.kill()
        self.popen.wait()
        self._logf.close()


def start_serve(env: Mapping[str, str], port: int, log: Path) -> Proc:
    return Proc([*SWITCHBOARD, "serve", "--port", str(port)], env, log)


def start_worker(env: Mapping[str, str], log: Path) -> Proc:
    return Proc([*SWITCHBOARD, "worker"], env, log)


def wait_healthy(proc: Proc, base_url: str, timeout: float = 60) -> float:
    """Seconds until GET /health answers 200; fails with the process's output."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.popen.poll() is not None:
            raise AssertionError(f"process exited {proc.popen.returncode}:\n{proc.output()[-4000:]}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"not healthy after {timeout}s:\n{proc.output()[-4000:]}")


def wait_worker_ready(proc: Proc, timeout: float = 150) -> None:
    """Until the worker logs that it is ready: its start-up (the embedding model loaded) done, jobs next.

    Generous: on a busy two-core machine several workers importing the model library at once have taken
    over a minute.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.popen.poll() is not None:
            raise AssertionError(f"worker exited {proc.popen.returncode}:\n{proc.output()[-4000:]}")
        if READY_LOG in proc.output():
            return
        time.sleep(0.05)
    raise AssertionError(f"worker not ready after {timeout}s:\n{proc.output()[-4000:]}")
