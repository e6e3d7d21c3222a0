"""The OpenAPI document: quart-schema's, with our error shape on every operation.

quart-schema documents JSON bodies and answers from the pydantic models of `validate_request`
and `validate_response`. What it cannot see is documented with the decorators here, which put
the same facts on the view for `SwitchboardOpenAPI` to write out:

- `no_content`: a 204 answer with no body;
- `event_stream`: an SSE stream (`text/event-stream`) resumed with `?last_id=` or `Last-Event-ID`;
- `attachment`: a file answered as an attachment, with its media type;
- `upload_form`: a `multipart/form-data` body with a `file` part and optional text fields;
- `ends_session`: the call can end the caller's own sign-in (`x-ends-session: true`), so clients
  and the fuzz tests know to use a throwaway session for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from quart_schema import OpenAPIProvider
from werkzeug.routing import Rule

F = TypeVar("F", bound=Callable[..., Any])

_RESPONSES = "__switchboard_responses__"
_REQUEST_BODY = "__switchboard_request_body__"
_PARAMETERS = "__switchboard_parameters__"
_ENDS_SESSION = "__switchboard_ends_session__"

BINARY = {"type": "string", "format": "binary"}
ATTACHMENT_HEADER = {
    "Content-Disposition": {
        "description": "`attachment` with the file's name",
        "schema": {"type": "string"},
    }
}


class ErrorBody(BaseModel):
    """Every error the API answers with."""

    error: str
    message: str
    details: Any = None


def _add(view: F, attribute: str, key: str, value: Any) -> F:
    found: dict[str, Any] = dict(getattr(view, attribute, {}))
    found[key] = value
    setattr(view, attribute, found)
    return view


def responds(status: int, description: str, content: dict[str, Any] | None = None, **extra: Any) -> Callable[[F], F]:
    """Document an answer the pydantic models do not describe (`content` maps media types to schemas)."""

    def decorator(view: F) -> F:
        response: dict[str, Any] = {"description": description, **extra}
        if content is not None:
            response["content"] = {media: ({"schema": schema} if schema else {}) for media, schema in content.items()}
        return _add(view, _RESPONSES, str(status), response)

    return decorator


def no_content(description: str) -> Callable[[F], F]:
    """A 204 answer: done, nothing to say."""
    return responds(204, description)


SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "One event of the stream (OpenAPI 3.1 reads an event stream's schema as each event's).",
    "properties": {
        "event": {"type": "string", "description": "The event's type (`update_type`)."},
        "data": {"type": "string", "description": "The event as JSON text."},
        "id": {"type": "string", "description": "Its id: resume after it with `?last_id=` or `Last-Event-ID`."},
        "retry": {"type": "integer", "minimum": 0},
    },
}


def event_stream(description: str, *, ends: bool = True) -> Callable[[F], F]:
    """A 200 Server-Sent Events stream, resumed after `?last_id=` or the `Last-Event-ID` header; `ends`: the
    stream of something that ends, which answers 204 to a client that had its end already."""

    def decorator(view: F) -> F:
        stream = responds(200, description, {"text/event-stream": SSE_EVENT})(view)
        if ends:
            stream = responds(
                204, "It has ended and the client had its end: nothing more (a browser stops reconnecting)"
            )(stream)
        _add(stream, _PARAMETERS, "query:last_id", _resume_parameter("query", "last_id"))
        return _add(stream, _PARAMETERS, "header:Last-Event-ID", _resume_parameter("header", "Last-Event-ID"))

    return decorator


def query_parameter(name: str, description: str, schema: dict[str, Any]) -> Callable[[F], F]:
    """An optional query parameter read straight from `request.args`, documented."""

    def decorator(view: F) -> F:
        parameter = {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
        return _add(view, _PARAMETERS, f"query:{name}", parameter)

    return decorator


def _resume_parameter(where: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": False,
        "description": "Resume after this event id (the `id:` of an event already received).",
        "schema": {"type": "string", "pattern": r"^\d{1,20}-\d{1,20}$", "maxLength": 64},
    }


def attachment(media_type: str, description: str, schema: dict[str, Any] | None = None) -> Callable[[F], F]:
    """A 200 file download (`Content-Disposition: attachment`); `*/*` where the file keeps its own type."""
    return responds(200, description, {media_type: schema}, headers=ATTACHMENT_HEADER)


def upload_form(description: str, fields: dict[str, dict[str, Any]] | None = None) -> Callable[[F], F]:
    """A `multipart/form-data` body: the `file` part (required) and optional text `fields`."""
    properties: dict[str, Any] = {"file": {**BINARY, "description": description}}
    properties.update(fields or {})
    body = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": properties},
            }
        },
    }

    def decorator(view: F) -> F:
        setattr(view, _REQUEST_BODY, body)
        return view

    return decorator


def long_lived(view: F) -> F:
    """Mark a stream that stays open until the client leaves (`x-long-lived`): a fuzzer cannot wait for its end."""
    view.__switchboard_long_lived__ = True  # type: ignore[attr-defined]
    return view


def ends_session(view: F) -> F:
    """Mark an operation that can end the caller's own sign-in (sign-out, password, deletion, keys, 2FA)."""
    setattr(view, _ENDS_SESSION, True)
    return view


def _decorate(operation: dict[str, Any], view: Callable[..., Any]) -> dict[str, Any]:
    operation = dict(operation)
    responses = {str(code): response for code, response in operation["responses"].items()}
    responses.update(getattr(view, _RESPONSES, {}))
    operation["responses"] = responses
    extra_parameters = list(getattr(view, _PARAMETERS, {}).values())
    if extra_parameters:
        operation["parameters"] = [*operation.get("parameters", []), *extra_parameters]
    body = getattr(view, _REQUEST_BODY, None)
    if body is not None:
        operation["requestBody"] = body
    if getattr(view, _ENDS_SESSION, False):
        operation["x-ends-session"] = True
    if getattr(view, "__switchboard_long_lived__", False):
        operation["x-long-lived"] = True
    return operation


class SwitchboardOpenAPI(OpenAPIProvider):
    """quart-schema's document, plus what our decorators declare and the error shape as every `default`."""

    def build_paths(self, rule: Rule) -> tuple[dict[str, Any], dict[str, Any]]:
        """The operations of one rule, with the answers, bodies and marks declared on the view."""
        paths, components = super().build_paths(rule)
        view = self._app.view_functions[rule.endpoint]
        for path_item in paths.values():
            for method, operation in list(path_item.items()):
                path_item[method] = _decorate(operation, view)
        return paths, components

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
                operation["responses"].setdefault("default", error)
        return document
