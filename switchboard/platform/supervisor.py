"""`switchboard serve`'s children kept running: the embedded servers and the worker processes.

One thread looks at every child a few times a second. A child that died is reaped at once (no
defunct process is left), and started again after a pause that doubles while it keeps dying
soon after each start (up to `MAX_BACKOFF_S`), so a child that cannot start does not spin.
The embedded servers come back on their own data and port, so the URLs every process holds
stay valid and the clients reconnect by themselves.

The thread also stops the children: the kernel's parent-death signal (which stops a child when
serve is killed) is tied to the thread that started the child, so whatever the thread started
must not outlive it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

from switchboard.platform.embedded import die_with_parent

log = logging.getLogger(__name__)

CHECK_S = 0.1
"""How often the children are looked at: a death is noticed (and reaped) within this."""
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0
STEADY_S = 60.0
"""A child that ran this long before dying is restarted after the first pause again."""


class Child(Protocol):
    """A process the supervisor keeps running."""

    name: str

    def start(self) -> None:
        """Start the process (again), returning once it serves."""

    def exited(self) -> int | None:
        """The exit code once the process has ended (reaping it), None while it runs."""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process and wait for it."""


class WorkerProcess:
    """A `switchboard worker` process of serve's, against serve's servers.

    It runs in a session of its own: a Ctrl-C in the terminal reaches serve, which stops its
    workers itself (gracefully, before its servers), rather than every process at once.
    """

    def __init__(self, number: int, env: Mapping[str, str]) -> None:
        self.name = f"worker {number}"
        self.env = dict(env)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The running process's id."""
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        """Start the worker; it loads its model and takes jobs on its own."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard", "worker"],
            env=self.env,
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )

    def exited(self) -> int | None:
        """The exit code once the worker ended."""
        return None if self.proc is None else self.proc.poll()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the worker to stop (it lets running jobs go back to the queue) and wait for it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs, killing it", self.name, timeout)
            self.proc.kill()
            self.proc.wait()


class _Watch:
    """One child's restart bookkeeping."""

    def __init__(self, child: Child) -> None:
        self.child = child
        self.started_at = time.monotonic()
        self.backoff = FIRST_BACKOFF_S
        self.restart_at: float | None = None
        self.restarts = 0


class Supervisor:
    """Keeps `children` running on a thread of its own until `stop`.

    `servers` are stopped last: the workers (and the web process) need them to stop cleanly.
    """

    def __init__(self, servers: Sequence[Child], workers: Sequence[Child]) -> None:
        self.servers = list(servers)
        self.workers = list(workers)
        self._watches = [_Watch(child) for child in [*self.servers, *self.workers]]
        self._stopping_workers = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="supervisor", daemon=True)

    def start(self) -> None:
        """Start the workers, then watch every child (the servers were started by their owner)."""
        self._thread.start()

    def stop_workers(self) -> None:
        """Stop the workers now, without restarting them (serve is shutting down; its servers stay)."""
        self._stopping_workers.set()

    def stop(self) -> None:
        """Stop the workers, then the servers, and end the thread."""
        self._stopping_workers.set()
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        else:  # never started: nothing the thread made, the servers are still to stop
            self._stop(self.servers)

    def _run(self) -> None:
        try:
            for watch in self._watches[len(self.servers) :]:
                self._restart(watch, first=True)
            while not self._stopping_workers.wait(CHECK_S):
                self._check(self._watches)
            self._stop(self.workers)
            while not self._stopping.wait(CHECK_S):
                self._check(self._watches[: len(self.servers)])
        finally:
            self._stop(self.workers)
            self._stop(self.servers)

    def _check(self, watches: list[_Watch]) -> None:
        now = time.monotonic()
        for watch in watches:
            if watch.restart_at is None:
                code = watch.child.exited()
                if code is None:
                    continue
                if now - watch.started_at > STEADY_S:
                    watch.backoff = FIRST_BACKOFF_S
                watch.restart_at = now + watch.backoff
                log.error("%s exited with code %s; restarting it in %.1fs", watch.child.name, code, watch.backoff)
                watch.backoff = min(MAX_BACKOFF_S, watch.backoff * 2)
            elif now >= watch.restart_at:
                self._restart(watch)

    def _restart(self, watch: _Watch, *, first: bool = False) -> None:
        watch.started_at = time.monotonic()
        watch.restart_at = None
        try:
            watch.child.start()
        except Exception as exc:  # tried again after the pause
            log.error("%s did not start: %s; trying again in %.1fs", watch.child.name, exc, watch.backoff)
            watch.restart_at = watch.started_at + watch.backoff
            watch.backoff = min(MAX_BACKOFF_S, watch.backoff * 2)
            return
        if not first:
            watch.restarts += 1
            log.warning("%s restarted (%d restarts)", watch.child.name, watch.restarts)

    @staticmethod
    def _stop(children: list[Child]) -> None:
        for child in reversed(children):
            try:
                child.stop()
            except Exception:
                log.exception("could not stop %s", child.name)


def worker_env(database_url: str, redis_url: str, secret_key: str, data_dir: str) -> dict[str, str]:
    """The environment of serve's worker processes: serve's own, pointed at serve's servers."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secret_key,
        "SWITCHBOARD_DATA_DIR": data_dir,
    }
