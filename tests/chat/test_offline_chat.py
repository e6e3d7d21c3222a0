"""Chat with no model configured: the offline responder answers from the user's documents, live over SSE."""

from __future__ import annotations

from switchboard.chat.models import ChatTask, Message
from tests.chat.helpers import ask, follow, wait_status
from tests.ingestion.test_documents import wait_processed
from tests.support.accounts import upload

HANDBOOK = (
    b"# Expense policy\n\nTravel must be booked through the company portal.\n\n"
    b"## Meals\n\nThe daily meal allowance when travelling is 45 euros per person.\n\n"
    b"## Hotels\n\nHotel rooms may cost at most 160 euros per night in capital cities.\n"
)


async def _with_handbook(signup):
    ada = await signup()
    document = await (await upload(ada, "expense-policy.md", HANDBOOK)).get_json()
    assert (await wait_processed(ada, document["id"]))["status"] == "completed"
    return ada


async def test_offline_answer_quotes_the_document_with_a_citation(signup, worker):
    ada = await _with_handbook(signup)
    started = await ask(ada, "What is the daily meal allowance?", mode="ask")
    events = await follow(ada, started["task_id"])
    kinds = [e["event"] for e in events]
    assert kinds[:2] == ["queued", "task_started"] and kinds[-1] == "complete"
    assert "tool_started" in kinds and "tool_completed" in kinds and "citation" in kinds
    assert "text_delta" in kinds
    result = await (await ada.get(f"/api/v1/chat/{started['task_id']}/result")).get_json()
    assert result["status"] == "completed"
    assert "Offline responder" in result["response"] and "45 euros" in result["response"]
    assert result["citations"][0]["document_name"] == "expense-policy.md"
    assert "45 euros" in result["citations"][0]["text"]
    streamed = "".join(e["data"]["message"] for e in events if e["event"] == "text_delta")
    assert streamed == result["response"]
    messages = await (await ada.get(f"/api/v1/conversations/{started['conversation_id']}/messages")).get_json()
    assert [m["role"] for m in messages["items"]] == ["user", "assistant"]
    assert messages["items"][1]["citations"] == result["citations"]


async def test_research_mode_plans_steps_and_synthesises(signup, worker):
    ada = await _with_handbook(signup)
    started = await ask(ada, "What is the meal allowance? Also how much may a hotel cost?", mode="research")
    events = await follow(ada, started["task_id"])
    kinds = [e["event"] for e in events]
    plan = next(e for e in events if e["event"] == "plan_created")
    assert len(plan["data"]["data"]["steps"]) == 2
    assert kinds.count("agent_started") >= 3 and kinds[-1] == "complete"
    result = await (await ada.get(f"/api/v1/chat/{started['task_id']}/result")).get_json()
    assert "45 euros" in result["response"] and "160 euros" in result["response"]


async def test_resume_after_disconnect_gets_exactly_the_rest_and_state_matches(signup, worker):
    ada = await _with_handbook(signup)
    started = await ask(ada, "How much may a hotel cost per night?", mode="ask")
    everything = await follow(ada, started["task_id"])
    k = 4
    rest = await follow(ada, started["task_id"], last_id=everything[k - 1]["id"])
    assert [e["id"] for e in everything[:k] + rest] == [e["id"] for e in everything]
    via_header = await ada.get(
        f"/api/v1/chat/{started['task_id']}/progress", headers={"Last-Event-ID": everything[k - 1]["id"]}
    )
    assert "task_started" not in await via_header.get_data(as_text=True)
    state = await (await ada.get(f"/api/v1/chat/{started['task_id']}/progress/state")).get_json()
    assert [e["event_id"] for e in state["events"]] == [e["id"] for e in everything]


async def test_nothing_found_says_so_plainly(signup, worker):
    ada = await signup()
    started = await ask(ada, "What is the capital of Mongolia?", mode="ask")
    await follow(ada, started["task_id"])
    result = await (await ada.get(f"/api/v1/chat/{started['task_id']}/result")).get_json()
    assert result["status"] == "completed" and result["citations"] == []
    assert "found nothing in your documents" in result["response"]


async def test_another_users_task_is_not_found(signup, worker):
    ada = await _with_handbook(signup)
    eve = await signup()
    started = await ask(ada, "What is the meal allowance?", mode="ask")
    await follow(ada, started["task_id"])
    for path in ("", "/progress", "/progress/state", "/result"):
        response = await eve.get(f"/api/v1/chat/{started['task_id']}{path}")
        assert response.status_code == 404, path
    assert (await eve.post(f"/api/v1/chat/{started['task_id']}/cancel")).status_code == 404
    assert (await eve.get(f"/api/v1/conversations/{started['conversation_id']}/messages")).status_code == 404


async def test_second_active_task_is_409_and_leaves_no_rows(signup):
    from switchboard.chat.models import Conversation

    ada = await signup()
    # a task of Ada's that a worker is in the middle of
    conversation = await Conversation.create(org_id=ada.org_id, user_id=ada.user_id, title="busy")
    busy = await ChatTask.create(
        org_id=ada.org_id, user_id=ada.user_id, conversation=conversation, question="busy", status="processing"
    )
    second = await ada.post("/api/v1/chat/stream", json={"message": "second question"})
    assert second.status_code == 409 and (await second.get_json())["error"] == "task_active"
    assert await ChatTask.filter(user_id=ada.user_id).count() == 1
    assert await Message.filter(content="second question").count() == 0, "the refused question left no row"
    assert await Conversation.filter(user_id=ada.user_id).count() == 1, "nor a conversation"
    active = await (await ada.get("/api/v1/chat/active")).get_json()
    assert active["task"]["task_id"] == str(busy.id)
    # cancelling a running task asks the worker to stop at its next step
    asked = await (await ada.post(f"/api/v1/chat/{busy.id}/cancel")).get_json()
    assert asked["status"] == "processing"
    await busy.refresh_from_db()
    assert busy.cancel_requested


async def test_cancelling_a_queued_task_stops_it_at_once(signup):
    from switchboard.chat.models import Conversation

    ada = await signup()
    conversation = await Conversation.create(org_id=ada.org_id, user_id=ada.user_id, title="waiting")
    queued = await ChatTask.create(
        org_id=ada.org_id, user_id=ada.user_id, conversation=conversation, question="waiting", status="queued"
    )
    cancelled = await (await ada.post(f"/api/v1/chat/{queued.id}/cancel")).get_json()
    assert cancelled["status"] == "cancelled"
    stream = await follow(ada, str(queued.id))
    assert [e["event"] for e in stream] == ["cancelled"]
    assert (await ada.post("/api/v1/chat/stream", json={"message": "now it may"})).status_code == 202


async def test_memories_are_kept_from_what_the_user_says_and_editable(signup, worker, app):
    from switchboard.chat.tasks import remember_from_task

    ada = await signup()
    started = await ask(ada, "I prefer answers in bullet points. What is our travel policy?", mode="ask")
    await follow(ada, started["task_id"])
    await wait_status(ada, started["task_id"], ("completed",))
    # the job the worker runs after each task, run here too so the test does not race it (it is idempotent)
    await remember_from_task({"runtime": app.extensions["runtime"], "job_try": 1}, started["task_id"])
    memories = await (await ada.get("/api/v1/memories")).get_json()
    assert memories["items"][0]["category"] == "preferences"
    assert "bullet points" in memories["items"][0]["content"]
    memory_id = memories["items"][0]["id"]
    edited = await ada.put(f"/api/v1/memories/{memory_id}", json={"importance": 0.9})
    assert (await edited.get_json())["importance"] == 0.9
    own = await ada.post("/api/v1/memories", json={"content": "Works in Lisbon", "category": "facts"})
    assert own.status_code == 201
    stats = await (await ada.get("/api/v1/memories/stats")).get_json()
    assert stats["total"] == 2 and stats["by_category"]["facts"] == 1
    assert (await ada.delete(f"/api/v1/memories/{memory_id}")).status_code == 204
    assert (await ada.get(f"/api/v1/memories/{memory_id}")).status_code == 404


async def test_the_same_memory_remembered_twice_at_once_is_kept_once(signup):
    import asyncio

    from switchboard.chat import memory
    from switchboard.platform.auth import Principal

    ada = await signup()
    principal = Principal(user_id=ada.user_id, email="ada@example.com", org_id=ada.org_id, role="owner")
    kept = await asyncio.gather(
        *(memory.create_memory(principal, "Prefers  short answers", "preferences", i / 10) for i in range(6))
    )
    assert len({m.id for m in kept}) == 1
    listed = await (await ada.get("/api/v1/memories")).get_json()
    assert [(m["content"], m["importance"]) for m in listed["items"]] == [("Prefers short answers", 0.5)]
    other = await ada.post("/api/v1/memories", json={"content": "Works in Lisbon", "category": "facts"})
    clash = await ada.put(
        f"/api/v1/memories/{(await other.get_json())['id']}", json={"content": "Prefers short answers"}
    )
    assert clash.status_code == 409 and (await clash.get_json())["error"] == "conflict"


async def test_conversation_continues_and_can_be_deleted(signup, worker):
    ada = await _with_handbook(signup)
    first = await ask(ada, "What is the meal allowance?", mode="ask")
    await follow(ada, first["task_id"])
    second = await ask(ada, "And for hotels?", mode="ask", conversation_id=first["conversation_id"])
    assert second["conversation_id"] == first["conversation_id"]
    await follow(ada, second["task_id"])
    listed = await (await ada.get("/api/v1/conversations")).get_json()
    assert listed["total"] == 1 and listed["items"][0]["title"] == "What is the meal allowance?"
    messages = await (await ada.get(f"/api/v1/conversations/{first['conversation_id']}/messages")).get_json()
    assert messages["total"] == 4
    assert (await ada.delete(f"/api/v1/conversations/{first['conversation_id']}")).status_code == 204
    assert (await ada.get(f"/api/v1/conversations/{first['conversation_id']}/messages")).status_code == 404


async def test_investigate_mode_tests_hypotheses_in_waves(signup, worker):
    ada = await _with_handbook(signup)
    started = await ask(ada, "Why is the hotel limit 160 euros?", mode="auto")
    events = await follow(ada, started["task_id"])
    selected = next(e for e in events if e["event"] == "mode_selected")
    assert selected["data"]["data"]["mode"] == "investigate", "a why-question is investigated"
    updates = [e["data"]["data"] for e in events if e["event"] == "hypotheses_updated"]
    assert updates[0]["wave"] == 0 and all(h["status"] == "open" for h in updates[0]["hypotheses"])
    assert any(h["status"] == "supported" for h in updates[-1]["hypotheses"])
    result = await (await ada.get(f"/api/v1/chat/{started['task_id']}/result")).get_json()
    assert "160 euros" in result["response"] and result["citations"]


async def test_state_is_rebuilt_from_the_database_after_the_stream_expires(signup, worker, app):
    ada = await _with_handbook(signup)
    started = await ask(ada, "What is the meal allowance?", mode="ask")
    await follow(ada, started["task_id"])
    await app.extensions["runtime"].redis.delete(f"sb:events:chat:{started['task_id']}")
    state = await (await ada.get(f"/api/v1/chat/{started['task_id']}/progress/state")).get_json()
    assert [e["update_type"] for e in state["events"]] == ["task_started", "complete"]
    assert "45 euros" in state["events"][-1]["response"]
    replay = await follow(ada, started["task_id"])
    assert [e["event"] for e in replay] == ["task_started", "complete"]
    assert replay[-1]["data"]["citations"][0]["document_name"] == "expense-policy.md"
