"""The fuzz gate: schemathesis over every operation of /openapi.json against a live server.

Generated requests never get a 5xx, and every answer matches what the document promises for
its status. The operation list is read from the document, so a route added later is fuzzed
the day it is added. The operations are shared between schemathesis processes running side by
side; those marked `x-ends-session` go to one of their own that uses throwaway accounts
(tests/support/fuzz_hooks.py), so they are fuzzed for real without ending the others' session.
Every named rate limit is raised for this server, through `RATE_LIMITS`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from switchboard.platform.ratelimit import LIMITS
from tests.fakes.openai_server import FakeOpenAI
from tests.support import processes

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = "8"
SHARDS = 2  # schemathesis processes for the everyday operations, beside the throwaway one


@pytest.fixture(scope="module")
def fuzz_url(process_env, worker, tmp_path_factory) -> Iterator[str]:
    """A server of its own, every rate limit raised the documented way, with a platform model (a fake
    OpenAI-compatible server) so that the routes that need one answer rather than say 503 model_required."""
    model = FakeOpenAI().start()
    env = {
        **process_env,
        "RATE_LIMITS": json.dumps(dict.fromkeys(LIMITS, "1000000/minute")),
        "CHAT_BASE_URL": model.base_url,
    }
    port = processes.free_port()
    proc = processes.start_serve(env, port, tmp_path_factory.mktemp("logs") / "fuzz-serve.log")
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_healthy(proc, url)
        yield url
    finally:
        proc.stop()
        model.stop()


class Pass:
    """One schemathesis process over some operations, writing a JSON report."""

    def __init__(self, url: str, operation_ids: list[str], report: Path, *args: str, **env: str) -> None:
        self.report = report
        self.expected = len(operation_ids)
        self.log = report.with_suffix(".log")
        selected = [arg for op_id in operation_ids for arg in ("--include-operation-id", op_id)]
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
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
                    # one thread a process: hypothesis's lambda descriptions are not thread-safe on 3.11
                    "--workers",
                    "1",
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
                    *selected,
                    *args,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=report.parent,  # its crash cache stays out of the checkout
                env={**os.environ, "PYTHONPATH": str(ROOT), **env},
            )

    def verdict(self) -> dict[str, Any]:
        """Wait for the run; its report, and the console output when it is not clean."""
        returncode = self.proc.wait(timeout=900)
        console = self.log.read_text()[-12000:]
        assert returncode == 0 and self.report.exists(), console
        found: dict[str, Any] = json.loads(self.report.read_text())
        assert found["failures"] == [] and found["errors"] == [], console
        assert found["operations"]["selected"] == found["operations"]["tested"] == self.expected, console
        return found


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


@pytest.mark.timeout(900)
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

    # a long-lived stream (the org's live events) never ends: tests/platform/test_live.py covers it
    ids = [op["operationId"] for op in operations if not op.get("x-ends-session") and not op.get("x-long-lived")]
    ending_ids = [op["operationId"] for op in session_ending]
    long_lived = [op["operationId"] for op in operations if op.get("x-long-lived")]
    assert len(set(ids + ending_ids + long_lived)) == len(operations), "operation ids are unique"

    started = time.monotonic()
    passes = [
        Pass(fuzz_url, ids[shard::SHARDS], tmp_path / f"everyday-{shard}.json", "--header", f"{header}: {value}")
        for shard in range(SHARDS)
    ]
    passes.append(
        Pass(
            fuzz_url,
            ending_ids,
            tmp_path / "throwaway.json",
            SCHEMATHESIS_HOOKS="tests.support.fuzz_hooks",
            SWITCHBOARD_FUZZ_URL=fuzz_url,
        )
    )
    try:
        verdicts = [p.verdict() for p in passes]
    finally:
        for p in passes:
            if p.proc.poll() is None:
                p.proc.kill()
                p.proc.wait()
    seconds = time.monotonic() - started

    # the throwaway pass ended sessions for real, and carried on with fresh accounts
    done = await _throwaway_actions(settings)
    assert done.get("user.password_changed") and done.get("account.deletion_requested"), done
    assert done.get("auth.login", 0) > 2, done
    cases = sum(v["test_cases"]["generated"] for v in verdicts)
    print(f"\nfuzz gate: {len(operations)} operations, {cases} requests, {seconds:.0f} s")
