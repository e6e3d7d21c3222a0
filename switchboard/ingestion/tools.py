"""The `knowledge` agent: search the user's documents, read one, list collections."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from switchboard.agents import Agent, CallContext, Tool
from switchboard.ingestion import collections, service
from switchboard.ingestion.search import SearchResults
from switchboard.platform.runtime import Runtime


class SearchArgs(BaseModel):
    """Arguments of search_documents."""

    query: str = Field(min_length=1, max_length=1000, description="What to look for, in natural language.")
    top_k: int = Field(5, ge=1, le=20, description="How many passages to return.")
    collection_ids: list[uuid.UUID] | None = Field(None, description="Only these collections (default: all).")


class ReadArgs(BaseModel):
    """Arguments of read_document."""

    document_id: uuid.UUID = Field(description="The document to read.")
    start: int = Field(0, ge=0, description="First passage to return.")
    count: int = Field(10, ge=1, le=50, description="How many passages to return.")


class NoArgs(BaseModel):
    """No arguments."""


def knowledge_agent(runtime: Runtime) -> Agent:
    """The agent that answers from the user's documents."""

    async def search_documents(ctx: CallContext, args: SearchArgs) -> SearchResults:
        hits = await service.query(
            ctx.principal, runtime, args.query, collection_ids=args.collection_ids, top_k=args.top_k, research=True
        )
        return SearchResults(args.query, tuple(hits))

    async def read_document(ctx: CallContext, args: ReadArgs) -> dict[str, Any]:
        document = await service.get(ctx.principal, str(args.document_id))
        passages, total = await service.chunks(ctx.principal, str(document.id), args.count, args.start)
        return {
            "document_id": str(document.id),
            "name": document.name,
            "total_passages": total,
            "passages": [{"index": c.index, "page": c.page, "heading": c.heading, "text": c.text} for c in passages],
        }

    async def list_collections(ctx: CallContext, args: NoArgs) -> dict[str, Any]:
        found = await collections.list_personal(ctx.principal)
        return {
            "collections": [
                {"id": str(c.id), "name": c.name, "scope": c.scope, "include_in_research": c.include_in_research}
                for c in found
            ]
        }

    return Agent(
        name="knowledge",
        description="Finds and reads passages in the user's uploaded documents and the organization's collections.",
        tools=(
            Tool(
                "search_documents",
                "Search the user's documents by meaning and words; returns passages with document names and pages.",
                SearchArgs,
                search_documents,
                searches=True,
            ),
            Tool("read_document", "Read consecutive passages of one document.", ReadArgs, read_document),
            Tool("list_collections", "List the document collections the user can read.", NoArgs, list_collections),
        ),
    )
