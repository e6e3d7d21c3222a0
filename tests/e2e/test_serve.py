"""`switchboard serve` on the embedded default: starts healthy, stops clean, restarts on the same data."""

from __future__ import annotations

import re
import signal
import time

import httpx
import psutil

from tests.support import processes


def _children(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _all_gone(procs: list[psutil.Process], timeout: float = 10) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    return [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def test_serve_starts_stops_clean_and_restarts_on_same_data(tmp_path):
    env = {"SWITCHBOARD_DATA_DIR": str(tmp_path / "var"), "LOG_LEVEL": "INFO"}
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"

    proc = processes.start_serve(env, port, tmp_path / "serve1.log")
    try:
        processes.wait_healthy(proc, url, timeout=90)
        health = httpx.get(f"{url}/health").json()
        assert health["status"] == "ok" and health["db"] and health["queue"] and health["events"]
        children = _children(proc.pid)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "postgres" in names and "valkey-server" in names
        password = re.search(r"password: (\S+)", proc.output()).group(1)
        assert password not in " ".join(line for line in proc.output().splitlines() if line.startswith("{")), (
            "the generated password must not reach the JSON logs"
        )
        login = httpx.post(f"{url}/api/v1/auth/login", json={"email": "admin@example.com", "password": password})
        assert login.status_code == 200, "the first admin can sign in with the printed password"
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        check = httpx.post(f"{url}/api/v1/system/checks", headers=auth).json()
        deadline = time.monotonic() + 10
        while httpx.get(f"{url}/api/v1/system/checks/{check['id']}", headers=auth).json()["status"] != "completed":
            assert time.monotonic() < deadline, "the in-process worker did not run the self-check"
            time.sleep(0.05)
    finally:
        assert proc.stop(signal.SIGINT) == 0, proc.output()[-3000:]
    assert _all_gone(children) == [], "Ctrl-C left child processes behind"

    proc = processes.start_serve(env, port, tmp_path / "serve2.log")
    try:
        restart_seconds = processes.wait_healthy(proc, url, timeout=60)
        assert restart_seconds < 15
        assert "First admin created" not in proc.output(), "the first admin is created once"
        login = httpx.post(f"{url}/api/v1/auth/login", json={"email": "admin@example.com", "password": password})
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        again = httpx.get(f"{url}/api/v1/system/checks/{check['id']}", headers=auth)
        assert again.status_code == 200 and again.json()["status"] == "completed", "data was not kept"
        children = _children(proc.pid)
        valkey = next(c for c in children if "valkey-server" in " ".join(c.cmdline()))
        valkey.kill()
        deadline = time.monotonic() + 10
        while (degraded := httpx.get(f"{url}/health", timeout=10)).status_code == 200:
            assert time.monotonic() < deadline, "health stayed ok with Valkey killed"
            time.sleep(0.1)
        assert degraded.status_code == 503
        assert degraded.json()["status"] == "degraded" and degraded.json()["db"] is True
    finally:
        proc.stop(signal.SIGTERM)
    assert _all_gone(children) == [], "SIGTERM left child processes behind"


def test_secret_key_is_generated_once_and_kept(tmp_path):
    from switchboard.config import Settings

    first = Settings(_env_file=None, SWITCHBOARD_DATA_DIR=tmp_path).resolved_secret_key()
    second = Settings(_env_file=None, SWITCHBOARD_DATA_DIR=tmp_path).resolved_secret_key()
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_is_required_in_production(tmp_path):
    import pytest

    from switchboard.config import Settings

    settings = Settings(
        _env_file=None, SWITCHBOARD_DATA_DIR=tmp_path, database_url="postgres://x/y", redis_url="redis://x"
    )
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        settings.resolved_secret_key()
