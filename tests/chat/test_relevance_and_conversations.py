"""Search a person can trust (similarity, which half found it, a cut-off) and conversations they can
rename and search; the offline responder quotes only what clears the cut-off."""

from __future__ import annotations

from tests.chat.helpers import ask, follow
from tests.ingestion.test_documents import wait_processed
from tests.support.accounts import upload

MEALS = b"# Meals\n\nThe daily meal allowance when travelling is 45 euros per person.\n"
HOTELS = b"# Hotels\n\nHotel rooms may cost at most 160 euros per night in capital cities.\n"


async def _with_policy(signup):
    ada = await signup()
    for name, content in (("meals.md", MEALS), ("hotels.md", HOTELS)):
        document = await (await upload(ada, name, content)).get_json()
        assert (await wait_processed(ada, document["id"]))["status"] == "completed"
    return ada


async def _search(account, query: str, mode: str = "hybrid") -> list[dict]:
    response = await account.post("/api/v1/documents/query", json={"query": query, "mode": mode})
    assert response.status_code == 200, await response.get_data(as_text=True)
    return (await response.get_json())["results"]


async def test_search_hits_say_how_similar_and_how_found_and_unrelated_queries_find_nothing(signup, worker):
    ada = await _with_policy(signup)
    hits = await _search(ada, "meal allowance")
    assert hits[0]["document_name"] == "meals.md"
    assert hits[0]["found_by"] == ["semantic", "text"]  # the words match too
    assert 0.3 <= hits[0]["similarity"] <= 1
    assert all(h["similarity"] >= 0.3 for h in hits)
    # meaning alone: found by the semantic half only, similarity kept
    by_meaning = await _search(ada, "what can I spend on food each day")
    assert by_meaning and by_meaning[0]["document_name"] == "meals.md"
    assert by_meaning[0]["found_by"] == ["semantic"]
    # nothing related: nothing shown, in hybrid and semantic search alike
    assert await _search(ada, "how do I bake sourdough bread") == []
    assert await _search(ada, "how do I bake sourdough bread", mode="semantic") == []
    # words only: no similarity to give
    words = await _search(ada, "allowance", mode="text")
    assert words and words[0]["similarity"] is None and words[0]["found_by"] == ["text"]


async def test_the_offline_responder_says_plainly_when_nothing_answers(signup, worker):
    ada = await _with_policy(signup)
    started = await ask(ada, "How do I bake sourdough bread?", mode="ask")
    await follow(ada, started["task_id"])
    result = await (await ada.get(f"/api/v1/chat/{started['task_id']}/result")).get_json()
    assert "found nothing in your documents" in result["response"]
    assert result["citations"] == []

    started = await ask(ada, "What is the daily meal allowance?", mode="ask")
    await follow(ada, started["task_id"])
    result = await (await ada.get(f"/api/v1/chat/{started['task_id']}/result")).get_json()
    assert "45 euros" in result["response"] and "Sources:" not in result["response"]
    assert "160 euros" not in result["response"], "the hotel passage does not answer the question"
    cited = {c["number"] for c in result["citations"]}
    assert cited and all(f"[{n}]" in result["response"] for n in cited)
    assert [c["document_name"] for c in result["citations"]] == ["meals.md"]


async def test_conversations_are_renamed_and_searched(signup, worker):
    ada = await _with_policy(signup)
    first = await ask(ada, "What is the daily meal allowance?", mode="ask")
    await follow(ada, first["task_id"])
    second = await ask(ada, "How much may a hotel cost per night?", mode="ask")
    await follow(ada, second["task_id"])

    renamed = await ada.patch(f"/api/v1/conversations/{first['conversation_id']}", json={"title": "Food money"})
    assert renamed.status_code == 200 and (await renamed.get_json())["title"] == "Food money"
    assert (await ada.patch(f"/api/v1/conversations/{first['conversation_id']}", json={"title": ""})).status_code == 422

    async def titles(q: str) -> list[str]:
        page = await (await ada.get("/api/v1/conversations", query_string={"q": q})).get_json()
        return [c["title"] for c in page["items"]]

    assert await titles("food") == ["Food money"]  # by its title
    assert await titles("160 euros") == ["How much may a hotel cost per night?"]  # by the answer's words
    assert await titles("nothing like this") == []

    # the answer keeps its steps, in order, with their times
    messages = await (await ada.get(f"/api/v1/conversations/{second['conversation_id']}/messages")).get_json()
    answer = messages["items"][-1]
    assert answer["status"] == "completed"
    kinds = [s["type"] for s in answer["steps"]]
    assert kinds[0] == "task_started" and "tool_completed" in kinds
    assert [s["at"] for s in answer["steps"]] == sorted(s["at"] for s in answer["steps"])

    # another person sees none of it
    bob = await signup()
    assert (
        await bob.patch(f"/api/v1/conversations/{first['conversation_id']}", json={"title": "x"})
    ).status_code == 404
    page = await (await bob.get("/api/v1/conversations", query_string={"q": "food"})).get_json()
    assert page["items"] == []
