"""`?limit=&offset=` lists answered as `{items, total, limit, offset}`."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from switchboard.platform.query import MAX_QUERY_INT, QueryArgs

T = TypeVar("T")


class PageQuery(QueryArgs):
    """Which slice of a list to return; list filters extend it."""

    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_QUERY_INT)


class Page(BaseModel, Generic[T]):
    """A slice of a list and the list's full length."""

    items: list[T]
    total: int
    limit: int
    offset: int
