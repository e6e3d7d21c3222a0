"""Shared set-up for benchmarks: embedded servers (or DATABASE_URL/REDIS_URL), migrations, worker processes."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from switchboard.config import Settings
from switchboard.platform.embedded import EmbeddedServers
from switchboard.worker import READY_LOG

BENCH_SECRET = "bench-secret-key-0123456789abcdef0123456789abcdef"  # noqa: S105 (a throwaway test server)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def stop(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """SIGTERM, then SIGKILL if it is still there after `timeout` (a loaded machine stops slowly)."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def servers() -> Iterator[Settings]:
    """Settings pointing at running servers, embedded ones in a temporary data dir unless URLs are given."""
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    db_url, redis_url = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    embedded = EmbeddedServers(data_dir, postgres=db_url is None, valkey=redis_url is None)
    embedded.start()
    try:
        yield Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=db_url or embedded.postgres.url,  # type: ignore[union-attr]
            redis_url=redis_url or embedded.valkey.url,  # type: ignore[union-attr]
            SWITCHBOARD_DATA_DIR=data_dir,
            secret_key=BENCH_SECRET,
            log_level="WARNING",
        )
    finally:
        embedded.stop()


@contextlib.contextmanager
def worker_process(settings: Settings, extra_env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A separate `switchboard worker` process, ready to take jobs (`extra_env`: more settings for it)."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "SECRET_KEY": BENCH_SECRET,
        "SWITCHBOARD_DATA_DIR": str(settings.data_dir),
        "LOG_LEVEL": "INFO",
        **(extra_env or {}),
    }
    log = settings.data_dir / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "switchboard", "worker"], env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while READY_LOG not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker did not start:\n{log.read_text()}")
        time.sleep(0.05)
    try:
        yield proc
    finally:
        stop(proc)


@contextlib.contextmanager
def serve_process(settings: Settings, extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """A separate `switchboard serve` process (no worker inside) on a free local port; yields its base URL."""
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "SECRET_KEY": BENCH_SECRET,
        "SWITCHBOARD_DATA_DIR": str(settings.data_dir),
        "EMBEDDED_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    base_url = f"http://127.0.0.1:{port}"
    log = settings.data_dir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard", "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start:\n{log.read_text()}")
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        yield base_url
    finally:
        stop(proc)


@contextlib.contextmanager
def make_run_process(extra_env: dict[str, str] | None = None) -> Iterator[tuple[str, int, Settings]]:
    """A plain `switchboard serve` as `make run` starts it: its own embedded servers in a new data dir and the
    worker processes it supervises (EMBEDDED_WORKER, default sized to the machine). Yields its base URL, its
    process id and settings naming the servers it started."""
    import httpx

    from switchboard.platform.embedded import running_servers

    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-bench-serve-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMBEDDED_WORKER")}
    env.update({"SWITCHBOARD_DATA_DIR": str(data_dir), "SECRET_KEY": BENCH_SECRET, "LOG_LEVEL": "WARNING"})
    env.update(extra_env or {})
    base_url = f"http://127.0.0.1:{port}"
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard", "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start:\n{log.read_text()}")
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        urls = running_servers(data_dir) or {}
        yield (
            base_url,
            proc.pid,
            Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=urls.get("database_url"),
                redis_url=urls.get("redis_url"),
                SWITCHBOARD_DATA_DIR=data_dir,
                secret_key=BENCH_SECRET,
            ),
        )
    finally:
        stop(proc)
