"""Jobs and direct model calls: one idempotent submission, an estimate first, usage that matches its records;
a completion streamed token by token from an OpenAI-compatible server, and a clear answer without a model."""

from __future__ import annotations

import asyncio
import base64
from decimal import Decimal

from switchboard.agents.models import UsageRecord
from tests.chat.helpers import bring_own_model, parse_sse, wait_status
from tests.fakes.openai_server import Turn
from tests.ingestion import samples
from tests.ingestion.test_documents import wait_processed

PRICES = {"fake-model": {"prompt": 1.0, "completion": 2.0}}


async def test_one_job_per_key_estimated_first_and_its_usage_is_its_records(
    signup, worker, fake_model, settings, monkeypatch
):
    monkeypatch.setattr(settings, "model_prices", PRICES)
    fake_model.responder = lambda body: Turn.reply("The allowance ", "is 45 euros.")
    ada = await signup()
    await bring_own_model(ada, fake_model.base_url)
    body = {"kind": "chat", "input": {"message": "What is the meal allowance?", "mode": "ask"}}
    key = {"Idempotency-Key": "job-1"}
    first = await ada.post("/api/v1/jobs", json=body, headers=key)
    assert first.status_code == 202, await first.get_data(as_text=True)
    job = await first.get_json()
    assert job["job_id"].startswith("chat-") and job["kind"] == "chat"
    estimate = job["estimate"]
    assert estimate["model"] == "fake-model" and estimate["prompt_tokens"] > 0 and Decimal(estimate["cost"]) > 0
    again = await ada.post("/api/v1/jobs", json=body, headers=key)
    assert again.status_code == 202 and (await again.get_json())["job_id"] == job["job_id"]
    assert [j["job_id"] for j in await (await ada.get("/api/v1/jobs")).get_json()] == [job["job_id"]]

    await wait_status(ada, job["job_id"].removeprefix("chat-"), ("completed",))
    detail = await (await ada.get(f"/api/v1/jobs/{job['job_id']}")).get_json()
    assert detail["status"] == "completed"
    events = parse_sse(await (await ada.get(f"/api/v1/jobs/{job['job_id']}/events")).get_data(as_text=True))
    assert events[0]["event"] == "queued" and events[-1]["event"] == "complete"

    usage = await (await ada.get(f"/api/v1/jobs/{job['job_id']}/usage")).get_json()
    records = await UsageRecord.filter(subject_type="chat_task", subject_id=job["job_id"].removeprefix("chat-"))
    assert records and usage["calls"] == len(records)
    assert usage["prompt_tokens"] == sum(r.prompt_tokens for r in records) > 0
    assert usage["completion_tokens"] == sum(r.completion_tokens for r in records) > 0
    expected = sum(Decimal(r.prompt_tokens) + 2 * Decimal(r.completion_tokens) for r in records) / 1_000_000
    assert Decimal(usage["cost"]) == expected.quantize(Decimal("0.000001"))

    other = await signup()
    assert (await other.get(f"/api/v1/jobs/{job['job_id']}")).status_code == 404


async def test_an_ingest_job_indexes_its_text_once_per_key_and_its_usage_is_the_embedding(signup, worker):
    ada = await signup()
    text = "# Harbour guide\n\nThe lighthouse keeper logs every passing ship in a leather-bound ledger.\n"
    body = {"kind": "ingest", "input": {"filename": "harbour.md", "text": text}}
    first = await ada.post("/api/v1/jobs", json=body, headers={"Idempotency-Key": "ingest-1"})
    assert first.status_code == 202, await first.get_data(as_text=True)
    job = await first.get_json()
    assert job["job_id"].startswith("ingest-") and job["kind"] == "ingest"
    assert job["estimate"]["model"] == "all-MiniLM-L6-v2" and job["estimate"]["prompt_tokens"] == len(text) // 4
    again = await ada.post("/api/v1/jobs", json=body, headers={"Idempotency-Key": "ingest-1"})
    assert (await again.get_json())["job_id"] == job["job_id"]
    document_id = job["job_id"].removeprefix("ingest-")
    status = await wait_processed(ada, document_id)
    assert status["status"] == "completed"
    listed = await (await ada.get("/api/v1/documents")).get_json()
    assert [d["name"] for d in listed["items"]] == ["harbour.md"]
    found = await (await ada.post("/api/v1/documents/query", json={"query": "who records the ships?"})).get_json()
    assert found["results"] and found["results"][0]["document_id"] == document_id

    usage = await (await ada.get(f"/api/v1/jobs/{job['job_id']}/usage")).get_json()
    (record,) = await UsageRecord.filter(subject_type="ingest", subject_id=document_id)
    assert record.model == "all-MiniLM-L6-v2" and record.completion_tokens == 0
    assert usage["calls"] == 1 and usage["chunks"] == 1
    assert usage["prompt_tokens"] == usage["total_tokens"] == record.prompt_tokens > 10

    pdf = samples.pdf(["A binary file travels as base64."])
    encoded = {"filename": "notes.pdf", "content_base64": base64.b64encode(pdf).decode()}
    binary = await ada.post("/api/v1/jobs", json={"kind": "ingest", "input": encoded})
    assert binary.status_code == 202 and (await binary.get_json())["estimate"]["prompt_tokens"] is None
    refusals = [
        ({}, 422),
        ({"filename": "a.md"}, 422),
        ({"filename": "a.md", "text": "x", "content_base64": "eA=="}, 422),
        ({"filename": "a.pdf", "content_base64": "not base64!"}, 422),
        ({"filename": "../a.md", "text": "x"}, 422),
        ({"filename": "a.exe", "text": "x"}, 415),
        ({"filename": "again.md", "text": text}, 409),  # the same text is in the collection already
    ]
    for given, status_code in refusals:
        refused = await ada.post("/api/v1/jobs", json={"kind": "ingest", "input": given})
        assert refused.status_code == status_code, (given, await refused.get_data(as_text=True))
    assert len((await (await ada.get("/api/v1/documents")).get_json())["items"]) == 2  # nothing half-written


async def test_a_finished_jobs_events_end_with_its_end_after_its_stream_has_expired(app, signup, worker):
    """A person who opens a finished job's events a day later gets how it ended, then the end of the response:
    not heartbeats for good."""
    ada = await signup()
    text = "# Tide table\n\nHigh water at the harbour mouth comes fifty minutes later each day.\n"
    job = await (
        await ada.post("/api/v1/jobs", json={"kind": "ingest", "input": {"filename": "tide.md", "text": text}})
    ).get_json()
    document_id = job["job_id"].removeprefix("ingest-")
    assert (await wait_processed(ada, document_id))["status"] == "completed"
    paths = [f"/api/v1/jobs/{job['job_id']}/events", f"/api/v1/documents/{document_id}/progress"]

    async def events_of(path: str, last_id: str | None = None) -> list[dict[str, object]] | None:
        """The events sent, or None for 204 (nothing more: a browser stops reconnecting)."""
        query = {"last_id": last_id} if last_id else {}
        answer = await asyncio.wait_for(ada.get(path, query_string=query), timeout=20)  # a stream that never ends fails
        if answer.status_code == 204:
            return None
        assert answer.status_code == 200 and answer.mimetype == "text/event-stream"
        return parse_sse(await answer.get_data(as_text=True))

    retained = await events_of(paths[0])
    assert retained is not None and retained[-1]["event"] == "complete" and len(retained) > 2
    await app.extensions["runtime"].events.redis.delete(f"sb:events:document:{document_id}")  # its retention ran out
    live_end = retained[-1]["data"]
    for path in paths:
        (ended,) = await events_of(path) or []
        assert ended["event"] == "complete"
        assert ended["data"]["message"] == live_end["message"] == "Ready: 1 passage indexed"
        assert ended["data"]["document_id"] == document_id and ended["data"]["chunk_count"] == 1
        assert {*ended["data"]} >= {"task_id", "update_type", "message", "timestamp", "event_id"}
        assert await events_of(path, last_id=ended["id"]) is None  # a client that had this end: nothing more
        # one that followed the stream before it expired, from anywhere, gets the end (again rather than never)
        for resumed in (retained[0], retained[-2], retained[-1]):
            assert [e["event"] for e in await events_of(path, last_id=resumed["id"]) or []] == ["complete"]


async def test_execute_streams_tokens_and_counts_them_and_without_a_model_says_so(signup, fake_model):
    fake_model.responder = lambda body: Turn.reply("Hel", "lo ", "there")
    ada = await signup()
    call = {"messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 20}
    offline = await ada.post("/api/v1/providers/execute/stream", json=call)
    assert offline.status_code == 503 and "model_required" in await offline.get_data(as_text=True)
    providers = await (await ada.get("/api/v1/providers")).get_json()
    assert [(p["name"], p["effective"]) for p in providers] == [("offline", True)]

    await bring_own_model(ada, fake_model.base_url)
    providers = await (await ada.get("/api/v1/providers")).get_json()
    assert (
        providers[0]["model"] == "fake-model" and providers[0]["effective"] and "stream" in providers[0]["capabilities"]
    )
    streamed = await ada.post("/api/v1/providers/execute/stream", json=call)
    assert streamed.status_code == 200
    events = parse_sse(await streamed.get_data(as_text=True))
    deltas = [e["data"]["delta"] for e in events if e["event"] == "text_delta"]
    assert deltas == ["Hel", "lo ", "there"]
    done = events[-1]
    assert done["event"] == "complete" and done["data"]["text"] == "Hello there"
    assert done["data"]["usage"]["completion_tokens"] > 0
    assert await UsageRecord.filter(subject_type="provider_call", subject_id=done["data"]["id"]).count() == 1

    whole = await (await ada.post("/api/v1/providers/execute", json=call)).get_json()
    assert whole["text"] == "Hello there" and whole["usage"]["total_tokens"] > 0
    guess = await (await ada.post("/api/v1/providers/estimate", json=call)).get_json()
    assert guess["model"] == "fake-model" and guess["completion_tokens"] == 20 and guess["cost"] is None
