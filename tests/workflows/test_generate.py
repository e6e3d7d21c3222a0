"""Workflows from a description through the caller's model (a fake OpenAI-compatible server), agents for a node."""

from __future__ import annotations

import json
from typing import Any

from tests.chat.helpers import bring_own_model
from tests.fakes.openai_server import Turn
from tests.workflows.conftest import WORKFLOWS

GENERATE = f"{WORKFLOWS}/generate"


def digest_definition() -> dict[str, Any]:
    return {
        "name": "Morning digest",
        "description": "Summarize new documents every morning",
        "nodes": [
            {"id": "morning", "type": "trigger", "config": {"kind": "schedule"}},
            {
                "id": "digest",
                "type": "agent",
                "config": {"agent": "knowledge", "instruction": "Summarize new documents"},
            },
        ],
        "edges": [{"from": "morning", "to": "digest"}],
    }


async def test_a_valid_answer_becomes_a_draft(admin, fake_model):
    await bring_own_model(admin, fake_model.base_url, "sk-x")
    fake_model.script(Turn.reply("Here it is:\n```json\n" + json.dumps(digest_definition()) + "\n```"))
    made = await admin.post(GENERATE, json={"description": "Every morning, summarize the new documents"})
    assert made.status_code == 201, await made.get_data(as_text=True)
    draft = await made.get_json()
    assert draft["status"] == "draft" and draft["repairs"] == 0 and draft["name"] == "Morning digest"
    assert [n["id"] for n in draft["nodes"]] == ["morning", "digest"]
    assert (await admin.get(f"{WORKFLOWS}/{draft['id']}")).status_code == 200
    sent = fake_model.last_chat_request()
    prompt = json.dumps(sent["messages"])
    assert "knowledge" in prompt and "Every morning, summarize the new documents" in prompt


async def test_an_invalid_answer_is_repaired_with_the_errors(admin, fake_model):
    await bring_own_model(admin, fake_model.base_url, "sk-x")
    broken = digest_definition()
    broken["nodes"][1]["config"]["agent"] = "astrologer"  # no such agent
    fake_model.script(Turn.reply(json.dumps(broken)), Turn.reply(json.dumps(digest_definition())))
    made = await admin.post(GENERATE, json={"description": "Every morning, summarize the new documents"})
    assert made.status_code == 201, await made.get_data(as_text=True)
    assert (await made.get_json())["repairs"] == 1
    repair_request = json.dumps(fake_model.last_chat_request()["messages"][-1])
    assert "astrologer" in repair_request


async def test_an_answer_still_invalid_after_two_repairs_is_refused_with_the_reasons(admin, fake_model):
    await bring_own_model(admin, fake_model.base_url, "sk-x")
    fake_model.script(Turn.reply("no JSON here"), Turn.reply('{"name": "x"}'), Turn.reply('{"name": "x", "nodes": []}'))
    made = await admin.post(GENERATE, json={"description": "Something vague"})
    assert made.status_code == 422
    body = await made.get_json()
    assert body["error"] == "generation_invalid" and any(d["field"] == "nodes" for d in body["details"])
    assert len(fake_model.chat_requests()) == 3
    assert (await (await admin.get(WORKFLOWS)).get_json())["total"] == 0


async def test_offline_only_is_503_model_required(admin):
    made = await admin.post(GENERATE, json={"description": "Every morning, summarize the new documents"})
    assert made.status_code == 503
    body = await made.get_json()
    assert body["error"] == "model_required" and "/api/v1/settings/models" in body["message"]


async def test_suggest_agents_ranks_by_the_nodes_instruction_offline(admin, outsider, create_workflow):
    definition = digest_definition()
    definition["nodes"][1]["config"]["instruction"] = "Search our uploaded documents and read the travel policy"
    created = await create_workflow(definition)
    path = f"{WORKFLOWS}/{created['id']}/nodes/digest/suggest-agents"
    ranked = await admin.post(path)
    assert ranked.status_code == 200, await ranked.get_data(as_text=True)
    items = (await ranked.get_json())["items"]
    assert items[0]["agent"] == "knowledge"
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert (await admin.post(f"{WORKFLOWS}/{created['id']}/nodes/nowhere/suggest-agents")).status_code == 404
    assert (await outsider.post(path)).status_code == 404
