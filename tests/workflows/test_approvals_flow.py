"""Approvals inside runs, through a real worker process: a quorum from a group, then a signed webhook.

Approve -> the delivery happens once; reject -> the `rejected` edge; a rejected or timed-out approval
without its edge fails the run; two people deciding one approval at once -> one wins, one resume.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from switchboard.agents.errors import DestinationNotAllowed
from switchboard.workflows.engine.nodes import delivery_secret
from tests.chat.helpers import bring_own_model
from tests.conftest import TEST_SECRET
from tests.fakes.openai_server import FakeOpenAI, Turn
from tests.support.accounts import Account, join_org
from tests.workflows.conftest import WORKFLOWS, run_workflow, steps_by_node, wait_run

APPROVALS = "/api/v1/workflows/approvals"


class Receiver:
    """A webhook endpoint on 127.0.0.1 that keeps each delivery's headers and body."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/incoming"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def fake_model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default_turn=Turn.reply("The numbers ", "look right.")) as server:
        yield server


@dataclass
class Team:
    ada: Account  # owns the org, starts the runs
    bob: Account  # reviewers
    cara: Account
    dan: Account  # a member, not a reviewer
    olga: Account  # another org
    reviewers: str


@pytest.fixture
async def team(signup, fake_model: FakeOpenAI) -> Team:  # type: ignore[no-untyped-def]
    ada = await signup(name="Ada Owner")
    bob, cara, dan = [await signup(name=name) for name in ("Bob Reviewer", "Cara Reviewer", "Dan Member")]
    for person in (bob, cara, dan):
        await join_org(ada, person)
    base = f"/api/v1/orgs/{ada.org_id}"
    group = await (await ada.post(f"{base}/groups", json={"name": "reviewers"})).get_json()
    for person in (bob, cara):
        added = await ada.put(f"{base}/groups/{group['id']}/members/{person.user_id}", json={"role": "member"})
        assert added.status_code in (200, 201), await added.get_data(as_text=True)
    await bring_own_model(ada, fake_model.base_url)
    return Team(ada, bob, cara, dan, await signup(name="Olga Outsider"), group["id"])


def _count(node_id: str, label: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "tool",
        "config": {"agent": "counter", "tool": "count_call", "arguments": {"label": label}},
    }


def review_workflow(team: Team, url: str, **approval: Any) -> dict[str, Any]:
    """trigger -> (agent | calculator -> condition -> tally/low) -> merge -> approval -> delivery | declined."""
    config = {
        "approvers": {"groups": [team.reviewers]},
        "mode": "quorum",
        "quorum": 2,
        "title": "Check {{ nodes.calc.output.result }}",
        "description": "{{ nodes.research.output.text }}",
        "show": {"total": "{{ nodes.calc.output.result }}"},
        **approval,
    }
    return {
        "name": "Numbers review",
        "nodes": [
            {"id": "start", "type": "trigger", "config": {"kind": "manual"}},
            {
                "id": "research",
                "type": "agent",
                "config": {"agent": "calculator", "instruction": "Is {{ input.a }} * 7 a big number?"},
            },
            {
                "id": "calc",
                "type": "tool",
                "config": {
                    "agent": "calculator",
                    "tool": "calculate",
                    "arguments": {"expression": "{{ input.a }} * 7"},
                },
            },
            {
                "id": "check",
                "type": "condition",
                "config": {"conditions": [{"left": "{{ nodes.calc.output.result }}", "op": "gt", "right": 10}]},
            },
            _count("tally", "tally"),
            _count("low", "low"),
            {"id": "join", "type": "merge", "config": {"mode": "all"}},
            {"id": "review", "type": "approval", "config": config},
            {
                "id": "send",
                "type": "delivery",
                "config": {
                    "channel": "webhook",
                    "url": url,
                    "body": {"total": "{{ nodes.calc.output.result }}", "note": "{{ nodes.research.output.text }}"},
                },
            },
            _count("declined", "declined"),
            _count("late", "late"),
        ],
        "edges": [
            {"from": "start", "to": "research"},
            {"from": "start", "to": "calc"},
            {"from": "calc", "to": "check"},
            {"from": "check", "to": "tally", "when": "true"},
            {"from": "check", "to": "low", "when": "false"},
            {"from": "research", "to": "join"},
            {"from": "tally", "to": "join"},
            {"from": "low", "to": "join"},
            {"from": "join", "to": "review"},
            {"from": "review", "to": "send"},
            {"from": "review", "to": "declined", "when": "rejected"},
            {"from": "review", "to": "late", "when": "timeout"},
        ],
    }


async def _created(account: Account, definition: dict[str, Any]) -> str:
    response = await account.post(WORKFLOWS, json=definition)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return str((await response.get_json())["id"])


async def _approval_of(team: Team, workflow_id: str, run_id: str) -> str:
    detail = await wait_run(team.ada, workflow_id, run_id, ("awaiting_approval", "failed", "completed"))
    assert detail["status"] == "awaiting_approval", detail
    review = steps_by_node(detail)["review"]
    assert review["status"] == "waiting" and review["waiting_for"] == "approval"
    return str(review["approval_id"])


def _verify(headers: dict[str, str], body: bytes, workflow_id: str) -> bool:
    secret = base64.b64decode(delivery_secret(TEST_SECRET, workflow_id).removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
    return headers["webhook-signature"] == f"v1,{expected}"


async def test_a_quorum_of_two_approves_then_one_signed_delivery(
    team: Team, receiver: Receiver, fake_model: FakeOpenAI, worker, tool_calls
) -> None:
    workflow_id = await _created(team.ada, review_workflow(team, receiver.url))
    run_id = await run_workflow(team.ada, workflow_id, {"a": 3})
    approval_id = await _approval_of(team, workflow_id, run_id)

    shown = await (await team.bob.get(f"{APPROVALS}/{approval_id}")).get_json()
    assert shown["title"] == "Check 21"
    assert (await team.ada.post(f"{APPROVALS}/{approval_id}/approve", json={})).status_code == 403  # self-approval
    assert (await team.dan.post(f"{APPROVALS}/{approval_id}/approve", json={})).status_code == 403  # not an approver
    assert (await team.olga.post(f"{APPROVALS}/{approval_id}/approve", json={})).status_code == 404  # another org
    first = await team.bob.post(f"{APPROVALS}/{approval_id}/approve", json={"comment": "fine"})
    assert first.status_code == 200, await first.get_data(as_text=True)
    await asyncio.sleep(0.5)
    still = await (await team.ada.get(f"{WORKFLOWS}/{workflow_id}/executions/{run_id}")).get_json()
    assert still["status"] == "awaiting_approval" and not receiver.deliveries  # one of two is not a quorum
    assert (await team.cara.post(f"{APPROVALS}/{approval_id}/approve", json={})).status_code == 200

    detail = await wait_run(team.ada, workflow_id, run_id)
    assert detail["status"] == "completed", detail
    steps = steps_by_node(detail)
    assert steps["review"]["branch"] == "approved" and steps["send"]["status"] == "completed"
    assert steps["declined"]["status"] == "skipped" and steps["late"]["status"] == "skipped"
    assert steps["low"]["status"] == "skipped" and steps["research"]["output"]["text"] == "The numbers look right."
    assert [label for label, _ in tool_calls()] == ["tally"]  # the branch not taken never ran
    assert len(receiver.deliveries) == 1
    headers, body = receiver.deliveries[0]
    assert json.loads(body) == {"total": 21, "note": "The numbers look right."}
    assert headers["webhook-id"] == steps["send"]["output"]["webhook_id"]
    assert _verify(headers, body, workflow_id)
    timeline = await (await team.ada.get(f"{WORKFLOWS}/{workflow_id}/executions/{run_id}/timeline")).get_json()
    review = next(s for s in timeline["steps"] if s["node_id"] == "review")
    assert review["waiting_for_people_ms"] > 400


async def test_a_reject_follows_the_rejected_edge_and_nothing_is_delivered(
    team: Team, receiver: Receiver, worker, tool_calls
) -> None:
    workflow_id = await _created(team.ada, review_workflow(team, receiver.url))
    run_id = await run_workflow(team.ada, workflow_id, {"a": 3})
    approval_id = await _approval_of(team, workflow_id, run_id)
    rejected = await team.cara.post(f"{APPROVALS}/{approval_id}/reject", json={"comment": "wrong total"})
    assert rejected.status_code == 200
    detail = await wait_run(team.ada, workflow_id, run_id)
    steps = steps_by_node(detail)
    assert detail["status"] == "completed" and steps["review"]["branch"] == "rejected"
    assert steps["review"]["output"]["comment"] == "wrong total"
    assert steps["send"]["status"] == "skipped" and steps["declined"]["status"] == "completed"
    assert sorted(label for label, _ in tool_calls()) == ["declined", "tally"]
    assert receiver.deliveries == []


async def test_a_timed_out_approval_applies_on_timeout(team: Team, receiver: Receiver, worker, tool_calls) -> None:
    # ~1 s to decide, then on_timeout: follow the `timeout` edge
    definition = review_workflow(team, receiver.url, timeout_hours=0.0003, on_timeout="timeout_edge")
    workflow_id = await _created(team.ada, definition)
    run_id = await run_workflow(team.ada, workflow_id, {"a": 3})
    await _approval_of(team, workflow_id, run_id)
    detail = await wait_run(team.ada, workflow_id, run_id, timeout=40)
    steps = steps_by_node(detail)
    assert detail["status"] == "completed" and steps["review"]["branch"] == "timeout"
    assert steps["late"]["status"] == "completed" and steps["send"]["status"] == "skipped"
    assert receiver.deliveries == []


async def test_a_rejection_without_a_rejected_edge_fails_the_run_with_the_comment(
    team: Team, receiver: Receiver, worker, tool_calls
) -> None:
    definition = review_workflow(team, receiver.url, mode="any", quorum=None)
    definition["edges"] = [e for e in definition["edges"] if e.get("when") != "rejected"]
    definition["nodes"] = [n for n in definition["nodes"] if n["id"] != "declined"]
    workflow_id = await _created(team.ada, definition)
    run_id = await run_workflow(team.ada, workflow_id, {"a": 3})
    approval_id = await _approval_of(team, workflow_id, run_id)
    assert (await team.bob.post(f"{APPROVALS}/{approval_id}/reject", json={"comment": "no way"})).status_code == 200
    detail = await wait_run(team.ada, workflow_id, run_id)
    assert detail["status"] == "failed" and detail["error"]["message"] == "no way"
    assert steps_by_node(detail)["send"]["status"] == "skipped" and receiver.deliveries == []


async def test_two_people_approving_at_once_resume_the_run_once(
    team: Team, receiver: Receiver, worker, tool_calls
) -> None:
    definition = review_workflow(team, receiver.url, mode="any", quorum=None)
    workflow_id = await _created(team.ada, definition)
    run_id = await run_workflow(team.ada, workflow_id, {"a": 3})
    approval_id = await _approval_of(team, workflow_id, run_id)
    answers = await asyncio.gather(
        team.bob.post(f"{APPROVALS}/{approval_id}/approve", json={}),
        team.cara.post(f"{APPROVALS}/{approval_id}/approve", json={}),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    detail = await wait_run(team.ada, workflow_id, run_id)
    assert detail["status"] == "completed"
    await asyncio.sleep(1)  # a second resume would deliver again within this time
    assert len(receiver.deliveries) == 1
    assert len(steps_by_node(detail)["send"]["attempts"]) == 1


async def test_a_delivery_goes_to_the_address_its_name_was_checked_at(app, receiver: Receiver, monkeypatch) -> None:
    """DNS rebinding: a name checked as allowed must not be looked up again (to somewhere else) for the POST."""
    from ipaddress import ip_address

    from switchboard.agents.builtin import network
    from switchboard.workflows.engine.runner import Engine

    looked_up: list[str] = []

    async def resolve(host: str, port: int) -> list[Any]:
        looked_up.append(host)
        return [ip_address("127.0.0.1")]  # what the name says when it is checked; no resolver knows it after

    monkeypatch.setattr(network, "_resolve", resolve)
    port = receiver.server.server_address[1]
    runtime = app.extensions["runtime"]
    # as the workers are set up here: the test servers' loopback network may be reached
    trusted = runtime.settings.model_copy(update={"http_agent_private_networks": ["127.0.0.0/8"]})
    engine = Engine(dataclasses.replace(runtime, settings=trusted))
    try:
        answer = await engine.post_delivery(f"http://hooks.receiver.invalid:{port}/incoming", b"{}", {}, 5.0)
        assert answer.status_code == 204 and looked_up == ["hooks.receiver.invalid"]
        ((headers, body),) = receiver.deliveries
        assert headers["host"] == f"hooks.receiver.invalid:{port}" and body == b"{}"  # the name it was sent for

        monkeypatch.setattr(network, "_resolve", lambda host, port: _resolved("169.254.169.254"))
        with pytest.raises(DestinationNotAllowed, match="link-local"):
            await engine.post_delivery("http://metadata.receiver.invalid/latest", b"{}", {}, 5.0)
        assert len(receiver.deliveries) == 1
    finally:
        await engine.close()


async def _resolved(address: str) -> list[Any]:
    from ipaddress import ip_address

    return [ip_address(address)]
