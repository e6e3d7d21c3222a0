"""Collections: each user's undeletable "General", personal collections, and org collections for all members."""

from __future__ import annotations

import uuid

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from switchboard.ingestion.models import Collection, Document
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.errors import Conflict, Forbidden, NotFound
from switchboard.platform.ids import parse_id

GENERAL = "General"


def visible(principal: Principal) -> Q:
    """Collections the caller may read: their own, and their org's."""
    return Q(org_id=principal.org_id) & (Q(owner_id=principal.user_id) | Q(scope="org"))


async def general(principal: Principal) -> Collection:
    """The caller's "General" collection, made on first use."""
    collection, _ = await Collection.get_or_create(
        org_id=principal.org_id,
        owner_key=str(principal.user_id),
        name=GENERAL,
        defaults={"owner_id": principal.user_id, "scope": "personal", "is_default": True},
    )
    return collection


async def list_personal(principal: Principal) -> list[Collection]:
    """The caller's personal collections and the org's collections, General first."""
    await general(principal)
    return await Collection.filter(visible(principal)).order_by("-is_default", "scope", "name")


async def readable(principal: Principal, collection_id: str) -> Collection:
    """A collection the caller may read, or NotFound."""
    collection = await Collection.filter(visible(principal), id=parse_id(collection_id, "Collection")).first()
    if collection is None:
        raise NotFound("Collection not found")
    return collection


async def writable(principal: Principal, collection_id: str | None) -> Collection:
    """Where the caller may put documents: their own collection (General by default), or an org one if admin."""
    if collection_id is None:
        return await general(principal)
    collection = await readable(principal, collection_id)
    if collection.scope == "org" and not principal.is_admin:
        raise Forbidden("Only an organization admin can add documents to an org collection")
    return collection


async def create(
    principal: Principal, name: str, description: str, include_in_research: bool, scope: str = "personal"
) -> Collection:
    """A new personal collection (or org collection, for admins)."""
    owner_key = "org" if scope == "org" else str(principal.user_id)
    try:
        collection = await Collection.create(
            org_id=principal.org_id,
            owner_id=None if scope == "org" else principal.user_id,
            owner_key=owner_key,
            scope=scope,
            name=name.strip(),
            description=description,
            include_in_research=include_in_research,
        )
    except IntegrityError:
        raise Conflict("A collection with this name already exists", code="collection_name_taken") from None
    await audit.record(
        "collection.created",
        actor=principal,
        target_type="collection",
        target_id=collection.id,
        details={"name": collection.name, "scope": scope},
    )
    return collection


async def _own(principal: Principal, collection_id: str, scope: str) -> Collection:
    collection = await readable(principal, collection_id)
    if collection.scope != scope:
        raise NotFound("Collection not found")
    if scope == "personal" and collection.owner_id != principal.user_id:
        raise NotFound("Collection not found")
    return collection


async def update(
    principal: Principal,
    collection_id: str,
    *,
    name: str | None,
    description: str | None,
    include_in_research: bool | None,
    scope: str = "personal",
) -> Collection:
    """Rename or describe a collection, or change whether agents' research reads it."""
    collection = await _own(principal, collection_id, scope)
    if name is not None and collection.is_default and name.strip() != GENERAL:
        raise Conflict("The General collection cannot be renamed", code="collection_default")
    if name is not None:
        collection.name = name.strip()
    if description is not None:
        collection.description = description
    if include_in_research is not None:
        collection.include_in_research = include_in_research
    try:
        await collection.save()
    except IntegrityError:
        raise Conflict("A collection with this name already exists", code="collection_name_taken") from None
    return collection


async def delete(principal: Principal, collection_id: str, scope: str = "personal") -> list[uuid.UUID]:
    """Delete a collection; its documents go too (returns their ids so their files can be removed)."""
    collection = await _own(principal, collection_id, scope)
    if collection.is_default:
        raise Conflict("The General collection cannot be deleted", code="collection_default")
    document_ids: list[uuid.UUID] = await Document.filter(collection_id=collection.id).values_list(  # type: ignore[assignment]
        "id", flat=True
    )
    await audit.record(
        "collection.deleted",
        actor=principal,
        target_type="collection",
        target_id=collection.id,
        details={"name": collection.name, "documents": len(document_ids)},
    )
    return document_ids  # the caller deletes the documents, then the collection


async def searchable(
    principal: Principal, collection_ids: list[uuid.UUID] | None, *, research: bool = False
) -> list[uuid.UUID]:
    """Ids of the collections a search may read: the requested ones the caller can see (all when None).

    Agents' research reads only collections flagged `include_in_research`.
    """
    query = Collection.filter(visible(principal))
    if collection_ids is not None:
        query = query.filter(id__in=collection_ids)
    if research:
        query = query.filter(include_in_research=True)
    ids: list[uuid.UUID] = await query.values_list("id", flat=True)  # type: ignore[assignment]
    return ids
