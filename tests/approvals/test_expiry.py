"""Approvals nobody decided expire and resume their subject once; a lost resume is made good."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.approvals import Approval, expire_overdue, void_for_subject
from switchboard.approvals import resume as resume_module
from tests.approvals.conftest import INBOX


async def test_an_overdue_approval_expires_and_resumes_once_with_expired(app, team, ask, resumed):
    runtime = app.extensions["runtime"]
    overdue = await ask(key="late", expires_at=datetime.now(UTC) + timedelta(seconds=30))
    waiting = await ask(key="in-time")
    await Approval.filter(id=overdue.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    # past its deadline it is out of the inbox at once, before the sweep comes by
    assert [a["id"] for a in await (await team.bob.get(f"{INBOX}/pending")).get_json()] == [str(waiting.id)]
    late = await team.bob.post(f"{INBOX}/{overdue.id}/approve", json={})
    assert late.status_code == 409 and (await late.get_json())["error"] == "approval_decided"

    assert await expire_overdue(runtime) == 1
    assert await expire_overdue(runtime) == 0
    assert resumed == [(str(overdue.id), "expired")], "the run applies its on_timeout, once"
    assert (await Approval.get(id=overdue.id)).status == "expired"
    assert (await Approval.get(id=waiting.id)).status == "pending"


async def test_a_resume_that_failed_is_called_again_by_the_sweep(app, team, ask):
    runtime = app.extensions["runtime"]
    calls: list[str] = []
    saved = dict(resume_module._handlers)

    async def flaky(approval: Approval, _runtime: object) -> None:
        calls.append(approval.status)
        if len(calls) == 1:
            raise RuntimeError("the queue is down")

    resume_module.register_resume_handler("workflow_step", flaky)
    try:
        approval = await ask()
        assert (await team.bob.post(f"{INBOX}/{approval.id}/approve", json={})).status_code == 200
        assert calls == ["approved"] and (await Approval.get(id=approval.id)).resumed_at is None
        await expire_overdue(runtime)
        assert calls == ["approved"], "not before the retry delay"
        stale = datetime.now(UTC) - resume_module.RESUME_RETRY - timedelta(seconds=1)
        await Approval.filter(id=approval.id).update(resume_claimed_at=stale)
        await expire_overdue(runtime)
        await expire_overdue(runtime)
        assert calls == ["approved", "approved"]
        assert (await Approval.get(id=approval.id)).resumed_at is not None
    finally:
        resume_module._handlers.clear()
        resume_module._handlers.update(saved)


async def test_a_cancelled_subject_voids_its_approvals_without_resuming(app, team, ask, resumed):
    approval = await ask()
    assert await void_for_subject("workflow_step", approval.subject_id, app.extensions["runtime"]) == 1
    assert (await Approval.get(id=approval.id)).status == "expired"
    assert await (await team.bob.get(f"{INBOX}/pending")).get_json() == []
    assert (await team.bob.post(f"{INBOX}/{approval.id}/approve", json={})).status_code == 409
    assert resumed == []
