"""Fixtures for the workflows tests: people in one org and someone of another org.

`admin` signs up first, so they own their org; `member` joins that org as a member; `outsider`
has an org of their own. Each is a `tests.support.accounts.Account` with its own client.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.accounts import Account, join_org

WORKFLOWS = "/api/v1/workflows"


def simple_definition(name: str = "Numbers review", **extra: Any) -> dict[str, Any]:
    """A small valid definition: a manual trigger, then a calculator tool step."""
    return {
        "name": name,
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"kind": "manual"}},
            {
                "id": "calc",
                "type": "tool",
                "config": {
                    "agent": "calculator",
                    "tool": "calculate",
                    "arguments": {"expression": "{{ input.a }} * 7"},
                },
            },
        ],
        "edges": [{"from": "start", "to": "calc"}],
        **extra,
    }


@pytest.fixture
async def admin(signup) -> Account:  # type: ignore[no-untyped-def]
    """The owner (an admin) of their own org, signed in."""
    account: Account = await signup(name="Ada Admin")
    return account


@pytest.fixture
async def member(signup, admin: Account) -> Account:  # type: ignore[no-untyped-def]
    """A second person in `admin`'s org, with the member role, signed in with that org active."""
    account: Account = await signup(name="Max Member")
    await join_org(admin, account)
    return account


@pytest.fixture
async def outsider(signup) -> Account:  # type: ignore[no-untyped-def]
    """Someone in another org."""
    account: Account = await signup(name="Olga Outsider")
    return account


@pytest.fixture
def create_workflow(admin: Account):  # type: ignore[no-untyped-def]
    """Factory: `await create_workflow(definition=None, account=admin)` -> the created workflow's JSON."""

    async def create(definition: dict[str, Any] | None = None, account: Account | None = None) -> dict[str, Any]:
        response = await (account or admin).post(WORKFLOWS, json=definition or simple_definition())
        assert response.status_code == 201, await response.get_data(as_text=True)
        created: dict[str, Any] = await response.get_json()
        return created

    return create


# --- the engine's tests (runs, approvals, kills) ---------------------------------------------------


@pytest.fixture
def tool_calls(settings):  # type: ignore[no-untyped-def]
    """The counter agent's log, emptied: `tool_calls()` -> [(label, idempotency key), ...] so far."""
    from tests.support.workflow_tools import calls_log, read_calls

    log = calls_log(settings.data_dir)
    log.unlink(missing_ok=True)
    log.with_name("tool-tries.log").unlink(missing_ok=True)
    log.with_name("tool-starts.log").unlink(missing_ok=True)
    return lambda: read_calls(settings.data_dir)


async def run_workflow(account: Account, workflow_id: str, payload: Any = None, **kwargs: Any) -> str:
    """Start a run; its id."""
    response = await account.post(f"{WORKFLOWS}/{workflow_id}/run", json={"input": payload}, **kwargs)
    assert response.status_code == 202, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    return str(body["run_id"])


async def wait_run(
    account: Account,
    workflow_id: str,
    run_id: str,
    statuses: tuple[str, ...] = ("completed", "failed", "cancelled"),
    timeout: float = 60,
) -> dict[str, Any]:
    """Poll the run's detail until its status is one of `statuses`; the detail."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        response = await account.get(f"{WORKFLOWS}/{workflow_id}/executions/{run_id}")
        assert response.status_code == 200, await response.get_data(as_text=True)
        detail: dict[str, Any] = await response.get_json()
        if detail["status"] in statuses:
            return detail
        assert time.monotonic() < deadline, f"run still {detail['status']}: {detail}"
        await asyncio.sleep(0.1)


def steps_by_node(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The run's steps by node id (iteration 0)."""
    return {s["node_id"]: s for s in detail["steps"] if s["iteration"] == 0}
