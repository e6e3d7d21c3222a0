"""The one rule for query-string and path parameters, whichever route reads them.

- Text: no NUL character and no unpaired surrogate (PostgreSQL stores neither; a filter holding
  one would reach SQL and fail there). Checked for every `/api/` request before its route runs,
  so a parameter read straight from `request.args` is covered too.
- Integers: a query model derives from `QueryArgs`, whose integers are bounded to what a
  PostgreSQL `integer` holds unless the field says narrower, and the bounds are written into the
  OpenAPI document as `minimum` / `maximum`.

Either breach is a 422 `validation_error` whose `details` name each parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from switchboard.platform.errors import ValidationFailed

MAX_QUERY_INT = 2**31 - 1
MIN_QUERY_INT = -(2**31)


def text_problem(value: str) -> str | None:
    """Why a parameter's text cannot be stored or searched, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode()
    except UnicodeEncodeError:
        return "contains invalid Unicode (an unpaired surrogate)"
    return None


def check_parameters(where: str, parameters: Iterable[tuple[str, Any]]) -> None:
    """Refuse text parameters (names or values) that break the text rule; 422 listing each one."""
    details = []
    for name, value in parameters:
        problem = text_problem(name) or (text_problem(value) if isinstance(value, str) else None)
        if problem:
            shown = name if text_problem(name) is None else repr(name)
            details.append({"field": shown, "message": f"The {where} parameter {problem}", "type": "text"})
    if details:
        raise ValidationFailed(details=details)


def _bounds(schema: dict[str, Any]) -> None:
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "integer":
            option.setdefault("minimum", MIN_QUERY_INT)
            option.setdefault("maximum", MAX_QUERY_INT)


def _document_bounds(schema: dict[str, Any], model: type[BaseModel]) -> None:
    for prop in schema.get("properties", {}).values():
        _bounds(prop)


class QueryArgs(BaseModel):
    """The base of every query-string model: integers within PostgreSQL's `integer`, documented."""

    model_config = ConfigDict(json_schema_extra=_document_bounds)

    @field_validator("*", mode="after")
    @classmethod
    def _within_bounds(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and not MIN_QUERY_INT <= value <= MAX_QUERY_INT:
            raise ValueError(f"must be between {MIN_QUERY_INT} and {MAX_QUERY_INT}")
        return value
