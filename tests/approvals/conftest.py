"""Fixtures for the inbox tests: a team in one org with a reviewers group, someone of another org,
approvals asked the way chat and the workflow engine ask them, and a resume handler that counts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from quart import Quart

from switchboard.approvals import Approval, request_approval
from switchboard.approvals import resume as resume_module
from tests.support.accounts import Account, join_org

INBOX = "/api/v1/approvals"
WORKFLOW_INBOX = "/api/v1/workflows/approvals"


@dataclass
class Team:
    """`ada` owns the org and starts runs; `bob` and `cara` are the reviewers group; `dan` is a plain
    member; `olga` is in another org."""

    ada: Account
    bob: Account
    cara: Account
    dan: Account
    olga: Account
    reviewers: str  # group id

    def by_id(self, user_id: str) -> Account:
        """The account with that user id."""
        return next(a for a in (self.ada, self.bob, self.cara, self.dan, self.olga) if a.user_id == user_id)


@pytest.fixture
async def team(signup) -> Team:  # type: ignore[no-untyped-def]
    ada = await signup(name="Ada Owner")
    bob, cara, dan = [await signup(name=name) for name in ("Bob Reviewer", "Cara Reviewer", "Dan Member")]
    for person in (bob, cara, dan):
        await join_org(ada, person)
    base = f"/api/v1/orgs/{ada.org_id}"
    group = await (await ada.post(f"{base}/groups", json={"name": "reviewers"})).get_json()
    for person in (bob, cara):
        added = await ada.put(f"{base}/groups/{group['id']}/members/{person.user_id}", json={"role": "member"})
        assert added.status_code in (200, 201), await added.get_data(as_text=True)
    olga = await signup(name="Olga Outsider")
    return Team(ada, bob, cara, dan, olga, group["id"])


@pytest.fixture
def ask(app: Quart, team: Team):  # type: ignore[no-untyped-def]
    """Factory: `await ask(approvers=..., mode=..., ...)` -> a workflow-step Approval asked by ada's run."""

    async def create(**overrides: Any) -> Approval:
        fields: dict[str, Any] = {
            "org_id": uuid.UUID(team.ada.org_id),
            "kind": "workflow_step",
            "subject_id": uuid.uuid4(),
            "key": "review:1",
            "title": "Check the refund of 120 euros",
            "context": {"amount": 120},
            "requested_by": uuid.UUID(team.ada.user_id),
            "approvers": {"groups": [team.reviewers]},
            "expires_at": datetime.now(UTC) + timedelta(hours=24),
            "link": "/workflows/w1/executions/r1",
            "runtime": app.extensions["runtime"],
        }
        fields.update(overrides)
        return await request_approval(**fields)

    return create


@pytest.fixture
def resumed() -> Iterator[list[tuple[str, str]]]:
    """Every (approval id, status) the workflow-step resume handler was called with, in this process."""
    calls: list[tuple[str, str]] = []
    saved = dict(resume_module._handlers)

    async def count(approval: Approval, runtime: Any) -> None:
        calls.append((str(approval.id), approval.status))

    resume_module.register_resume_handler("workflow_step", count)
    yield calls
    resume_module._handlers.clear()
    resume_module._handlers.update(saved)
