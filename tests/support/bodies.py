"""A valid example body for any route's request model, so a walk over the URL map gets past validation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from quart import Quart
from quart_schema.validation import QUART_SCHEMA_REQUEST_ATTRIBUTE


def example(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """The smallest value valid against a JSON schema of the kinds our models produce."""
    if "$ref" in schema:
        return example(defs[schema["$ref"].split("/")[-1]], defs)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return example(options[0], defs)
    kind = schema.get("type", "object")
    if kind == "string":
        if schema.get("format") == "email":
            return "probe@example.com"
        if schema.get("format") == "uuid":
            return "00000000-0000-0000-0000-000000000001"
        return "p" * max(int(schema.get("minLength", 1)), 8)
    if kind in ("integer", "number"):
        return schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
    if kind == "boolean":
        return False
    if kind == "array":
        return [example(schema.get("items", {}), defs) for _ in range(int(schema.get("minItems", 0)))]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example(props[name], defs) for name in schema.get("required", [])}
    return None


def body_for(app: Quart, endpoint: str) -> dict[str, Any] | None:
    """Example JSON body of the route's request model, or None when it takes no body."""
    view = app.view_functions[endpoint]
    schema = getattr(view, QUART_SCHEMA_REQUEST_ATTRIBUTE, None)
    if schema is None:
        return None
    model: type[BaseModel] = schema[0]
    json_schema = model.model_json_schema()
    result = example(json_schema, json_schema.get("$defs", {}))
    model.model_validate(result)  # the example must itself be valid
    assert isinstance(result, dict)
    return result
