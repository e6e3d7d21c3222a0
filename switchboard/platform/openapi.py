"""The OpenAPI document: quart-schema's, with our error shape on every operation."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from quart_schema import OpenAPIProvider


class ErrorBody(BaseModel):
    """Every error the API answers with."""

    error: str
    message: str
    details: Any = None


class SwitchboardOpenAPI(OpenAPIProvider):
    """Adds the error shape as every operation's `default` response."""

    def schema(self) -> dict[str, Any]:
        """The document, each operation answering ErrorBody by default."""
        document = super().schema()
        document["components"]["schemas"]["ErrorBody"] = ErrorBody.model_json_schema()
        error = {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        }
        for path_item in document["paths"].values():
            for operation in path_item.values():
                responses = {str(code): response for code, response in operation["responses"].items()}
                responses.setdefault("default", error)
                operation["responses"] = responses
        return document
