"""The fuzz gate: schemathesis over every operation of /openapi.json against a live server.

Generated requests never get a 5xx, and every answer matches what the document promises for
its status. The operation list is read from the document, so a route added later is fuzzed
the day it is added. Operations marked `x-ends-session` run in a second pass with throwaway
accounts (tests/support/fuzz_hooks.py), so they are fuzzed for real without ending the first
pass's session. Every named rate limit is raised for this server, through `RATE_LIMITS`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from switchboard.platform.ratelimit import LIMITS
from tests.support import processes

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
ROOT = Path(__file__).resolve().parents[2]
ENDS_SESSION = "/x-ends-session == true"
MAX_EXAMPLES = "8"


@pytest.fixture(scope="module")
def fuzz_url(process_env, worker, tmp_path_factory) -> Iterator[str]:
    """A server of its own, every rate limit raised the documented way."""
    env = {**process_env, "RATE_LIMITS": json.dumps(dict.fromkeys(LIMITS, "1000000/minute"))}
    port = processes.free_port()
    proc = processes.start_serve(env, port, tmp_path_factory.mktemp("logs") / "fuzz-serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_healthy(proc, url)
        yield url
    finally:
        proc.stop()


def _fuzz(url: str, report: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    """One schemathesis run; its JSON report, with the console output to explain a failure."""
    result = subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"{url}/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            MAX_EXAMPLES,
            "--workers",
            "4",
            "--request-timeout",
            "30",
            "--seed",
            "1",
            "--no-shrink",
            "--generation-database",
            "none",
            "--suppress-health-check",
            "all",
            "--no-color",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    report.with_suffix(".log").write_text(result.stdout + result.stderr)
    assert report.exists(), result.stdout[-12000:] + result.stderr[-3000:]
    verdict: dict[str, object] = json.loads(report.read_text())
    verdict["console"] = result.stdout[-12000:] + result.stderr[-3000:]
    verdict["returncode"] = result.returncode
    return verdict


def _assert_clean(verdict: dict[str, object], expected_operations: int) -> None:
    console = verdict["console"]
    operations = verdict["operations"]
    assert isinstance(operations, dict)
    assert verdict["returncode"] == 0, console
    assert verdict["failures"] == [] and verdict["errors"] == [], console
    assert operations["selected"] == operations["tested"] == expected_operations, console


async def _throwaway_actions(settings) -> dict[str, int]:
    """What the throwaway accounts did, from the audit log: action -> count of successes."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch(
            "SELECT action, count(*) AS n FROM audit_logs WHERE actor_email LIKE 'fuzz-%' AND outcome = 'success' "
            "GROUP BY action"
        )
    finally:
        await conn.close()
    return {r["action"]: r["n"] for r in rows}


async def test_every_operation_survives_the_fuzzer(fuzz_url, superadmin_headers, settings, tmp_path):
    document = httpx.get(f"{fuzz_url}/openapi.json").json()
    operations = [op for item in document["paths"].values() for op in item.values()]
    session_ending = [op for op in operations if op.get("x-ends-session")]
    assert session_ending, "sign-out and the like are marked x-ends-session"
    ((header, value),) = superadmin_headers.items()
    # the first search loads the embedding model into the web process (once the caller has a collection
    # to search): done before, as on a server that has been up a while
    httpx.get(f"{fuzz_url}/api/v1/documents/collections", headers=superadmin_headers).raise_for_status()
    warm = httpx.post(
        f"{fuzz_url}/api/v1/documents/query", json={"query": "warm up"}, headers=superadmin_headers, timeout=300
    )
    assert warm.status_code == 200, warm.text

    started = time.monotonic()
    everyday = _fuzz(fuzz_url, tmp_path / "everyday.json", "--exclude-by", ENDS_SESSION, "--header", f"{header}: {value}")
    throwaway = _fuzz(
        fuzz_url,
        tmp_path / "throwaway.json",
        "--include-by",
        ENDS_SESSION,
        env={"SCHEMATHESIS_HOOKS": "tests.support.fuzz_hooks", "SWITCHBOARD_FUZZ_URL": fuzz_url},
    )
    seconds = time.monotonic() - started

    _assert_clean(everyday, len(operations) - len(session_ending))
    _assert_clean(throwaway, len(session_ending))
    # the throwaway pass ended sessions for real, and carried on with fresh accounts
    done = await _throwaway_actions(settings)
    assert done.get("user.password_changed") and done.get("account.deletion_requested"), done
    assert done.get("auth.login", 0) > 2, done
    cases = sum(v["test_cases"]["generated"] for v in (everyday, throwaway))  # type: ignore[index]
    print(f"\nfuzz gate: {len(operations)} operations, {cases} requests, {seconds:.0f} s")
