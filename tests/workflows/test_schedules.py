"""Schedules through the API and real workers: each fire time runs once however many tickers, by the test's clock.

The schedules start in 2027, so the workers' own ticks (on the real clock) never reach them: every
fire here happens when the test ticks at a time it chooses — through jobs the two worker processes
take and `POST /admin/tick` in this process, side by side.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq.jobs import Job

from switchboard.platform.identity.models import User
from switchboard.workflows.trigger_models import ScheduleFire
from tests.support import processes
from tests.workflows.conftest import WORKFLOWS, wait_run

START = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
YEARLY = "0 0 1 1 *"


def quick_definition(name: str = "Every minute", *, park: bool = False) -> dict[str, Any]:
    """A scheduled workflow: a transform, or (park) a one-hour delay that keeps its run going."""
    step = (
        {"id": "wait", "type": "delay", "config": {"seconds": 3600}}
        if park
        else {"id": "note", "type": "transform", "config": {"value": {"fired": True}}}
    )
    return {
        "name": name,
        "nodes": [{"id": "clock", "type": "trigger", "config": {"kind": "schedule"}}, step],
        "edges": [{"from": "clock", "to": step["id"]}],
    }


@pytest.fixture(scope="module")
def second_worker(process_env, migrated, tmp_path_factory) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A second worker process beside the session's; `holder["proc"]` is replaced when a test restarts it."""
    log_dir = tmp_path_factory.mktemp("second-worker")
    proc = processes.start_worker(process_env, log_dir / "worker-1.log")
    processes.wait_worker_ready(proc, timeout=240)  # the machine may be busy: start-up loads the embedder
    holder = {"proc": proc, "logs": log_dir, "starts": 1}
    yield holder
    holder["proc"].stop()


def restart(holder: dict[str, Any], process_env: dict[str, str]) -> None:
    holder["proc"].stop()
    holder["starts"] += 1
    holder["proc"] = processes.start_worker(process_env, holder["logs"] / f"worker-{holder['starts']}.log")
    processes.wait_worker_ready(holder["proc"], timeout=240)


@pytest.fixture
async def superadmin(admin):  # type: ignore[no-untyped-def]
    await User.filter(id=admin.user_id).update(is_superadmin=True)
    return admin


async def active_workflow(account, definition: dict[str, Any]) -> str:  # type: ignore[no-untyped-def]
    created = await account.post(WORKFLOWS, json=definition)
    assert created.status_code == 201, await created.get_data(as_text=True)
    workflow_id = (await created.get_json())["id"]
    activated = await account.post(f"{WORKFLOWS}/{workflow_id}/activate")
    assert activated.status_code == 200, await activated.get_data(as_text=True)
    return str(workflow_id)


async def schedule(account, workflow_id: str, **body: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body.setdefault("cron", "* * * * *")
    body.setdefault("timezone", "UTC")
    body.setdefault("starts_at", START.isoformat())
    created = await account.post(f"{WORKFLOWS}/{workflow_id}/schedules", json=body)
    assert created.status_code == 201, await created.get_data(as_text=True)
    out: dict[str, Any] = await created.get_json()
    return out


async def tick_everywhere(app, superadmin, now: datetime) -> None:  # type: ignore[no-untyped-def]
    """Two tick jobs for the workers and a manual tick here, all at `now`, at the same time."""
    queue = app.extensions["runtime"].queue
    job_ids = [f"test-tick-{uuid.uuid4().hex}" for _ in range(2)]
    for job_id in job_ids:
        assert await queue.enqueue("tick_schedules", now.isoformat(), job_id=job_id)
    manual = await superadmin.post("/api/v1/admin/tick", json={"now": now.isoformat()})
    assert manual.status_code == 200, await manual.get_data(as_text=True)
    for job_id in job_ids:
        await Job(job_id, queue.pool, _queue_name=queue.queue_name).result(timeout=60, poll_delay=0.1)


async def runs_of(account, workflow_id: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    listed = await account.get(f"{WORKFLOWS}/{workflow_id}/executions", query_string={"limit": 200})
    assert listed.status_code == 200, await listed.get_data(as_text=True)
    items: list[dict[str, Any]] = (await listed.get_json())["items"]
    return items


@pytest.mark.timeout(400)
async def test_each_fire_time_runs_once_across_two_workers_and_a_restart(
    app, admin, superadmin, worker, second_worker, process_env
):
    workflow_id = await active_workflow(admin, quick_definition())
    # ten schedules due together: each tick claims them as one batch
    made = [await schedule(admin, workflow_id, overlap="allow") for _ in range(10)]
    assert made[0]["next_fire_times"][:2] == ["2027-05-03T09:00:00Z", "2027-05-03T09:01:00Z"]
    for minute in range(4):
        if minute == 2:  # a worker goes away and another takes its place between two fire times
            await asyncio.to_thread(restart, second_worker, process_env)
        now = START + timedelta(minutes=minute, seconds=2)
        await tick_everywhere(app, superadmin, now)
        await tick_everywhere(app, superadmin, now)  # and the same moment once more
    for created in made:
        fires = await ScheduleFire.filter(schedule_id=created["id"]).order_by("fire_time")
        assert [f.fire_time for f in fires] == [START + timedelta(minutes=m) for m in range(4)]
        assert all(f.outcome == "started" and f.run_id for f in fires)
    runs = await runs_of(admin, workflow_id)
    assert len(runs) == 40 and {r["trigger"] for r in runs} == {"schedule"}
    fired = await ScheduleFire.filter(schedule_id__in=[m["id"] for m in made]).values_list("run_id", flat=True)
    assert {r["id"] for r in runs} == {str(run_id) for run_id in fired}
    for run in runs:
        assert (await wait_run(admin, workflow_id, run["id"]))["status"] == "completed"


@pytest.mark.timeout(300)
async def test_overlap_policies(app, admin, superadmin, worker):
    parked = await active_workflow(admin, quick_definition("Long runs", park=True))
    skip = await schedule(admin, parked, overlap="skip")
    allow = await schedule(admin, parked, overlap="allow")
    queue_one = await schedule(admin, parked, overlap="queue_one")
    for minute in range(3):
        await tick_everywhere(app, superadmin, START + timedelta(minutes=minute, seconds=1))
    outcomes = {}
    for made in (skip, allow, queue_one):
        fires = await ScheduleFire.filter(schedule_id=made["id"]).order_by("fire_time")
        outcomes[made["overlap"]] = [f.outcome for f in fires]
    assert outcomes == {
        "skip": ["started", "skipped", "skipped"],
        "allow": ["started", "started", "started"],
        "queue_one": ["started", "queued", "skipped"],
    }
    # once queue_one's running run ends, its queued fire starts at the next tick
    first = await ScheduleFire.filter(schedule_id=queue_one["id"]).order_by("fire_time").first()
    assert first is not None
    cancelled = await admin.post(f"{WORKFLOWS}/{parked}/executions/{first.run_id}/cancel")
    assert cancelled.status_code in (200, 202), await cancelled.get_data(as_text=True)
    await wait_run(admin, parked, str(first.run_id), ("cancelled",))
    await tick_everywhere(app, superadmin, START + timedelta(minutes=2, seconds=30))
    fires = await ScheduleFire.filter(schedule_id=queue_one["id"]).order_by("fire_time")
    assert [f.outcome for f in fires] == ["started", "started", "skipped"]
    assert len({f.run_id for f in fires if f.run_id}) == 2


async def test_a_fire_time_just_ahead_is_written_early_and_its_run_starts_at_the_fire_time(app, admin, worker):
    """The periodic tick looks a few seconds ahead: the run is ready when the fire time strikes, not after it."""
    from switchboard.workflows import schedule_service
    from switchboard.workflows.models import WorkflowStep
    from switchboard.workflows.trigger_models import WorkflowSchedule

    workflow_id = await active_workflow(admin, quick_definition("Just ahead"))
    parked_id = await active_workflow(admin, quick_definition("Still going", park=True))
    # once a year: the one fire time written below is the only one any tick here can see
    ahead = await schedule(admin, workflow_id, cron=YEARLY)
    withdrawn = await schedule(admin, workflow_id, cron=YEARLY)
    busy = await schedule(admin, parked_id, cron=YEARLY, overlap="skip")
    runtime = app.extensions["runtime"]
    # the busy schedule's last run is still going: ahead of its next fire time it is left to the time itself
    await WorkflowSchedule.filter(id=busy["id"]).update(next_fire_at=datetime.now(UTC) - timedelta(seconds=1))
    await schedule_service.tick(runtime, lookahead_s=0)
    # The workers tick on their own too, looking 5 s ahead: a fire time 8-9 s ahead is still this tick's to
    # write, and one a minute ahead is paused long before it comes, however busy the machine is.
    now = datetime.now(UTC)
    fire = (now + timedelta(seconds=9)).replace(microsecond=0)
    later = (now + timedelta(seconds=60)).replace(microsecond=0)
    await WorkflowSchedule.filter(id=ahead["id"]).update(next_fire_at=fire)
    await WorkflowSchedule.filter(id__in=[withdrawn["id"], busy["id"]]).update(next_fire_at=later)

    done = await schedule_service.tick(runtime, lookahead_s=61)

    assert done.started == 2  # the busy one waits for its fire time
    held = await ScheduleFire.get(schedule_id=withdrawn["id"])
    assert (held.fire_time, held.outcome) == (later, "started")
    # paused before its fire time: the run written ahead is taken back, as if the tick had not looked ahead
    paused = await admin.post(f"{WORKFLOWS}/{workflow_id}/schedules/{withdrawn['id']}/pause")
    assert paused.status_code == 200
    assert await ScheduleFire.filter(schedule_id=withdrawn["id"]).count() == 0
    assert await WorkflowStep.filter(run_id=held.run_id).count() == 0
    fires = await ScheduleFire.filter(schedule_id=ahead["id"])
    assert [(f.fire_time, f.outcome) for f in fires] == [(fire, "started")]
    assert await ScheduleFire.filter(schedule_id=busy["id"], fire_time=later).count() == 0
    first = await WorkflowStep.get(run_id=fires[0].run_id, node_id="clock")
    assert first.ready_at == fire and first.resume_at == fire  # held until its fire time
    run = await wait_run(admin, workflow_id, str(fires[0].run_id))
    assert run["status"] == "completed"
    assert [r["id"] for r in await runs_of(admin, workflow_id)] == [str(fires[0].run_id)]
    await first.refresh_from_db()
    assert first.started_at is not None and first.started_at >= fire  # not a moment before its fire time
    listed = await (await admin.get(f"{WORKFLOWS}/{workflow_id}/schedules")).get_json()
    assert listed["items"][0]["next_fire_at"] > fire.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("missed", "expected_runs", "expected_missed"),
    [("skip", 1, 10), ("run_once", 2, 9), ("catch_up", 4, 7)],
)
async def test_missed_fire_policies_after_downtime(
    app, admin, superadmin, worker, missed: str, expected_runs: int, expected_missed: int
):
    workflow_id = await active_workflow(admin, quick_definition())
    made = await schedule(admin, workflow_id, missed=missed, catch_up_limit=3)
    # nothing ticked from 09:00 to 09:10: ten fire times missed, 09:10 itself is on time
    await tick_everywhere(app, superadmin, START + timedelta(minutes=10, seconds=5))
    fires = await ScheduleFire.filter(schedule_id=made["id"]).order_by("fire_time")
    assert len(fires) == expected_runs and fires[-1].fire_time == START + timedelta(minutes=10)
    listed = await (await admin.get(f"{WORKFLOWS}/{workflow_id}/schedules")).get_json()
    assert listed["items"][0]["missed_count"] == expected_missed
    assert listed["items"][0]["next_fire_at"] == "2027-05-03T09:11:00Z"


@pytest.mark.timeout(300)
async def test_daylight_saving_days_through_the_tick(app, admin, superadmin, worker):
    workflow_id = await active_workflow(admin, quick_definition("Nightly"))
    spring = await schedule(
        admin, workflow_id, cron="30 2 * * *", timezone="Europe/Berlin", starts_at="2027-03-27T12:00:00Z"
    )
    # the day 02:30 does not exist: one run, at 03:30 CEST
    assert spring["next_fire_times"][:2] == ["2027-03-28T01:30:00Z", "2027-03-29T00:30:00Z"]
    for hour in range(0, 5):
        await tick_everywhere(app, superadmin, datetime(2027, 3, 28, hour, 31, tzinfo=UTC))
    await admin.post(f"{WORKFLOWS}/{workflow_id}/schedules/{spring['id']}/pause")
    autumn = await schedule(
        admin, workflow_id, cron="30 2 * * *", timezone="Europe/Berlin", starts_at="2027-10-30T12:00:00Z"
    )
    for hour in range(0, 5):  # the day 02:30 happens twice: one run
        await tick_everywhere(app, superadmin, datetime(2027, 10, 31, hour, 31, tzinfo=UTC))
    spring_fires = await ScheduleFire.filter(schedule_id=spring["id"]).values_list("fire_time", flat=True)
    autumn_fires = await ScheduleFire.filter(schedule_id=autumn["id"]).values_list("fire_time", flat=True)
    assert spring_fires == [datetime(2027, 3, 28, 1, 30, tzinfo=UTC)]
    assert autumn_fires == [datetime(2027, 10, 31, 0, 30, tzinfo=UTC)]


async def test_only_active_unpaused_schedules_fire(app, admin, superadmin, worker):
    created = await admin.post(WORKFLOWS, json=quick_definition("Still a draft"))
    draft_id = (await created.get_json())["id"]
    draft = await schedule(admin, draft_id)
    active_id = await active_workflow(admin, quick_definition("Active"))
    paused = await schedule(admin, active_id)
    pause = await admin.post(f"{WORKFLOWS}/{active_id}/schedules/{paused['id']}/pause")
    assert pause.status_code == 200 and (await pause.get_json())["paused"] is True
    await tick_everywhere(app, superadmin, START + timedelta(seconds=5))
    assert await ScheduleFire.filter(schedule_id__in=[draft["id"], paused["id"]]).count() == 0
    assert await runs_of(admin, draft_id) == [] and await runs_of(admin, active_id) == []
    resumed = await admin.post(f"{WORKFLOWS}/{active_id}/schedules/{paused['id']}/resume")
    assert resumed.status_code == 200 and (await resumed.get_json())["paused"] is False


async def test_schedule_routes_validate_list_delete_and_hide_other_orgs(admin, member, outsider, worker):
    workflow_id = await active_workflow(admin, quick_definition())
    bad = await admin.post(f"{WORKFLOWS}/{workflow_id}/schedules", json={"cron": "61 * * * *"})
    assert bad.status_code == 422 and (await bad.get_json())["details"][0]["field"] == "cron"
    zone = await admin.post(f"{WORKFLOWS}/{workflow_id}/schedules", json={"cron": "@daily", "timezone": "Nowhere/X"})
    assert zone.status_code == 422 and (await zone.get_json())["details"][0]["field"] == "timezone"
    made = await schedule(admin, workflow_id, cron="@hourly", timezone="Asia/Tokyo")
    assert made["cron"] == "0 * * * *" and len(made["next_fire_times"]) == 5
    org_list = await (await member.get("/api/v1/schedules")).get_json()
    assert [s["id"] for s in org_list["items"]] == [made["id"]]
    assert (await (await outsider.get("/api/v1/schedules")).get_json())["items"] == []
    assert (await outsider.get(f"{WORKFLOWS}/{workflow_id}/schedules")).status_code == 404
    assert (await outsider.delete(f"{WORKFLOWS}/{workflow_id}/schedules/{made['id']}")).status_code == 404
    assert (await admin.post("/api/v1/admin/tick", json={})).status_code == 403  # superadmins only
    assert (await admin.delete(f"{WORKFLOWS}/{workflow_id}/schedules/{made['id']}")).status_code == 204
    assert (await (await admin.get("/api/v1/schedules")).get_json())["total"] == 0
