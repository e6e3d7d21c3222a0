"""Memories: what Switchboard keeps about a user, editable by them, recalled into the planner's context."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from tortoise.connection import get_connection
from tortoise.exceptions import IntegrityError
from tortoise.functions import Avg, Count

from switchboard.agents import ChatModel, Message, OfflineResponder, complete
from switchboard.chat.models import Memory
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Conflict, NotFound
from switchboard.platform.ids import parse_id

CATEGORIES = ("memories", "preferences", "facts", "patterns")

# First-person statements worth remembering when no model is there to judge.
_STATEMENT = re.compile(
    r"\b(?:i am|i'm|i work|i live|i prefer|i like|i love|i hate|i use|my [a-z ]{1,30} (?:is|are))\b[^.!?\n]{3,200}",
    re.IGNORECASE,
)
_PREFERENCE = re.compile(r"\b(?:prefer|like|love|hate|rather)\b", re.IGNORECASE)


async def list_memories(
    principal: Principal, *, category: str | None, limit: int, offset: int
) -> tuple[list[Memory], int]:
    """The caller's memories, most important first."""
    query = Memory.filter(user_id=principal.user_id, org_id=principal.org_id)
    if category:
        query = query.filter(category=category)
    return await query.order_by("-importance", "-updated_at").offset(offset).limit(limit), await query.count()


async def get_memory(principal: Principal, memory_id: str) -> Memory:
    """One of the caller's memories, or NotFound."""
    memory = await Memory.get_or_none(
        id=parse_id(memory_id, "Memory"), user_id=principal.user_id, org_id=principal.org_id
    )
    if memory is None:
        raise NotFound("Memory not found")
    return memory


async def create_memory(
    principal: Principal,
    content: str,
    category: str,
    importance: float,
    source_conversation_id: uuid.UUID | None = None,
) -> Memory:
    """Remember something (a duplicate of an existing memory raises its importance instead).

    One statement, so two jobs remembering the same thing at the same moment keep one row.
    """
    content = " ".join(content.split())
    rows = await get_connection("default").execute_query_dict(
        "INSERT INTO memories (id, org_id, user_id, category, content, importance, source_conversation_id, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now()) "
        "ON CONFLICT (user_id, org_id, md5(content)) DO UPDATE "
        "SET importance = greatest(memories.importance, excluded.importance), updated_at = now() RETURNING id",
        [uuid.uuid4(), principal.org_id, principal.user_id, category, content, importance, source_conversation_id],
    )
    return await Memory.get(id=rows[0]["id"])


async def update_memory(
    principal: Principal, memory_id: str, content: str | None, category: str | None, importance: float | None
) -> Memory:
    """Edit a memory."""
    memory = await get_memory(principal, memory_id)
    if content is not None:
        memory.content = " ".join(content.split())
    if category is not None:
        memory.category = category
    if importance is not None:
        memory.importance = importance
    try:
        await memory.save()
    except IntegrityError:
        raise Conflict("You already have a memory with this text") from None
    return memory


async def delete_memory(principal: Principal, memory_id: str) -> None:
    """Forget a memory."""
    memory = await get_memory(principal, memory_id)
    await memory.delete()


async def stats(principal: Principal) -> dict[str, Any]:
    """How many memories per category, and their mean importance."""
    rows = (
        await Memory.filter(user_id=principal.user_id, org_id=principal.org_id)
        .annotate(n=Count("id"), mean=Avg("importance"))
        .group_by("category")
        .values("category", "n", "mean")
    )
    by_category = {c: 0 for c in CATEGORIES} | {r["category"]: r["n"] for r in rows}
    total = sum(by_category.values())
    mean = sum((r["mean"] or 0) * r["n"] for r in rows) / total if total else 0.0
    return {"total": total, "by_category": by_category, "average_importance": round(mean, 3)}


async def recall(org_id: uuid.UUID, user_id: uuid.UUID, question: str, limit: int = 5) -> list[Memory]:
    """The memories most relevant to `question`: full-text match first, then importance."""
    sql = (
        "SELECT id FROM memories WHERE org_id = $1 AND user_id = $2 "
        "ORDER BY ts_rank(to_tsvector('english', content), plainto_tsquery('english', $3)) DESC, "
        "importance DESC, updated_at DESC LIMIT $4"
    )
    rows = await get_connection("default").execute_query_dict(sql, [org_id, user_id, question, limit])
    ids = [r["id"] for r in rows]
    if not ids:
        return []
    found = {m.id: m for m in await Memory.filter(id__in=ids)}
    return [found[i] for i in ids if i in found]


def extract_statements(text: str) -> list[tuple[str, str]]:
    """(category, statement) pairs a person said about themselves, for the offline responder."""
    found = []
    for match in _STATEMENT.finditer(text):
        statement = match.group(0).strip().rstrip(",;:")
        category = "preferences" if _PREFERENCE.search(statement) else "facts"
        found.append((category, statement[0].upper() + statement[1:]))
    return found[:5]


MEMORY_PROMPT = (
    "From the user's message below, list what is worth remembering about the user for later conversations "
    "(their preferences, facts about them, recurring patterns). Reply with a JSON list of objects "
    '{"category": "preferences"|"facts"|"patterns"|"memories", "content": "...", "importance": 0..1}, '
    "or [] if nothing.\n\nMessage: "
)


async def extract_memories(model: ChatModel, question: str) -> list[tuple[str, str, float]]:
    """(category, content, importance) the model finds worth remembering; offline, first-person statements."""
    if isinstance(model, OfflineResponder):
        return [(category, text, 0.6) for category, text in extract_statements(question)]
    try:
        found = json.loads((await complete(model, [Message.user(MEMORY_PROMPT + question)])).text)
    except ValueError:
        return []
    kept = []
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and isinstance(item.get("content"), str) and item["content"].strip():
            category = item.get("category") if item.get("category") in CATEGORIES else "memories"
            importance = min(1.0, max(0.0, float(item.get("importance") or 0.5)))
            kept.append((str(category), item["content"].strip()[:2000], importance))
    return kept[:5]


async def extractmemories(model: ChatModel, question: str) -> list[tuple[str, str, float]]:
    """(category, content, importance) the model finds worth remembering; offline, first-person statements."""
    if isinstance(model, OfflineResponder):
        return [(category, text, 0.6) for category, text in extract_statements(question)]
    try:
        found = json.loads((await complete(model, [Message.user(MEMORY_PROMPT + question)])).text)
    except ValueError:
        return []
    kept = []
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and isinstance(item.get("content"), str) and item["content"].strip():
            category = item.get("category") if item.get("category") in CATEGORIES else "memories"
            importance = min(1.0, max(0.0, float(item.get("importance") or 0.5)))
            kept.append((str(category), item["content"].strip()[:2000], importance))
    return kept[:5]
