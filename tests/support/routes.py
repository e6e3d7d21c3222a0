"""Routes that exist only in tests, to provoke errors the real routes should never raise."""

from __future__ import annotations

from pydantic import BaseModel, Field
from quart import Blueprint
from quart_schema import hide, validate_request

test_routes = Blueprint("test_routes", __name__, url_prefix="/__test__")


class Echo(BaseModel):
    name: str = Field(min_length=1)
    count: int = Field(ge=0)


@test_routes.post("/echo")
@hide  # not part of the API: the OpenAPI tests read the document as clients see it
@validate_request(Echo)
async def echo(data: Echo) -> dict[str, object]:
    return data.model_dump()


@test_routes.get("/boom")
@hide
async def boom() -> dict[str, object]:
    secret_path = "/very/secret/internal/path"
    raise RuntimeError(f"database exploded at {secret_path}")
