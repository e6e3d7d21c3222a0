"""Leases on rows a worker processes: taken once, read with the take, let go with the outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.chat.models import ChatTask, Conversation
from switchboard.platform import leases

ACTIVE = ("queued", "processing")


async def make_task(signup, status: str = "queued") -> ChatTask:
    ada = await signup()
    conversation = await Conversation.create(org_id=ada.org_id, user_id=ada.user_id, title="t")
    return await ChatTask.create(
        org_id=ada.org_id, user_id=ada.user_id, conversation=conversation, question="q", status=status
    )


async def test_a_lease_is_taken_once_and_the_row_comes_with_it(signup):
    task = await make_task(signup)
    await ChatTask.filter(id=task.id).update(attempts=2)  # saved by an earlier worker before it let go
    taken = await leases.take(ChatTask, task.id, seconds=30, statuses=ACTIVE)
    assert taken is not None
    row = taken.row
    assert row.id == task.id and row.attempts == 2 and row.question == "q"
    assert row.lease_owner == taken.owner and row.lease_owner.startswith(leases.WORKER_ID)
    assert row.lease_until > datetime.now(UTC)
    # a second job for the same row cannot take it while the lease runs, not even in this process
    assert await leases.take(ChatTask, task.id, seconds=30, statuses=ACTIVE) is None
    await ChatTask.filter(id=task.id).update(lease_owner="another-worker")
    assert await leases.take(ChatTask, task.id, seconds=30, statuses=ACTIVE) is None
    # once that lease has run out (its worker died), it can
    await ChatTask.filter(id=task.id).update(lease_until=datetime.now(UTC) - timedelta(seconds=1))
    assert await leases.take(ChatTask, task.id, seconds=30, statuses=ACTIVE) is not None
    # a row in another status is not taken
    await ChatTask.filter(id=task.id).update(status="completed", lease_owner=None, lease_until=None)
    assert await leases.take(ChatTask, task.id, seconds=30, statuses=ACTIVE) is None


async def test_finish_writes_the_outcome_and_lets_go_only_while_the_lease_is_ours(signup):
    task = await make_task(signup)
    taken = await leases.take(ChatTask, task.id, seconds=30, statuses=ACTIVE)
    assert taken is not None
    async with taken.held() as lease:
        assert await lease.finish(status="completed", response="done")
    row = await ChatTask.get(id=task.id)
    assert (row.status, row.response, row.lease_owner, row.lease_until) == ("completed", "done", None, None)

    other = await make_task(signup)
    taken = await leases.take(ChatTask, other.id, seconds=30, statuses=ACTIVE)
    assert taken is not None
    async with taken.held() as lease:
        # the watchdog thought this worker dead and another one took the row over
        await ChatTask.filter(id=other.id).update(lease_owner="another-worker")
        assert not await lease.finish(status="completed", response="stale")
    row = await ChatTask.get(id=other.id)
    assert (row.status, row.response, row.lease_owner) == ("queued", "", "another-worker")


async def test_update_writes_the_row_only_while_the_lease_is_ours(signup):
    task = await make_task(signup)
    taken = await leases.take(ChatTask, task.id, seconds=30, statuses=ACTIVE)
    assert taken is not None
    async with taken.held() as lease:
        assert await lease.update(status="processing", attempts=1, error=None, state={"step": 1})
        row = await ChatTask.get(id=task.id)
        assert (row.status, row.attempts, row.error, row.state) == ("processing", 1, None, {"step": 1})
        assert row.lease_owner == lease.owner
        # another job took the row over (its lease ran out meanwhile): this one's writes are refused
        await ChatTask.filter(id=task.id).update(lease_owner="another-worker")
        assert not await lease.update(status="failed", error="stale")
    row = await ChatTask.get(id=task.id)
    assert (row.status, row.error, row.lease_owner) == ("processing", None, "another-worker")
