"""The Quart application: blueprints, errors, correlation ids, lifecycle."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator
from typing import Any, NoReturn

from pydantic import ValidationError
from quart import Quart, Request, Response, g, jsonify, request
from quart_schema import Info, QuartSchema, RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from switchboard import __version__, contexts
from switchboard.agents import ChatModelFactory
from switchboard.config import Settings
from switchboard.ingestion import Embedder
from switchboard.platform import errors
from switchboard.platform.auth import count_ip, signs_in
from switchboard.platform.events import EventLog
from switchboard.platform.logs import correlation_id, install_correlation_ids, new_correlation_id
from switchboard.platform.openapi import SwitchboardOpenAPI
from switchboard.platform.query import check_parameters
from switchboard.platform.ratelimit import RateLimiter
from switchboard.platform.storage import Storage
from switchboard.platform.system import operations

log = logging.getLogger(__name__)

_HTTP_ERRORS: dict[int, type[errors.AppError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
}


def _body_error(message: str) -> errors.ValidationFailed:
    return errors.ValidationFailed(message, details=[{"field": "body", "message": message, "type": "json"}])


class JSONRequest(Request):
    """A request whose malformed JSON body is a 422 like any other invalid body.

    Bodies are capped at the JSON limit, except on upload paths, which stream up to the upload limit.
    """

    json_limit: int = 1_048_576
    upload_limit: int = 50 * 1024 * 1024
    upload_paths: tuple[str, ...] = ()

    def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
        # multipart framing adds a little to the file itself
        is_upload = path in self.upload_paths
        kwargs["max_content_length"] = self.upload_limit + 65_536 if is_upload else self.json_limit
        super().__init__(method, scheme, path, *args, **kwargs)

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The parsed body; text that is not UTF-8, or strings no database could store, are a 422."""
        try:
            result = await super().get_json(force, silent, cache)
        except UnicodeDecodeError:
            raise _body_error("The body is not valid UTF-8") from None
        try:
            text = json.dumps(result, ensure_ascii=False)
            text.encode()
        except UnicodeEncodeError:  # lone surrogates from \ud800-style escapes
            raise _body_error("The body contains invalid Unicode (unpaired surrogates)") from None
        if "\\u0000" in text:  # PostgreSQL can store no NUL character in text or JSON
            raise _body_error("The body contains a NUL character")
        return result

    def on_json_loading_failed(self, error: Exception) -> NoReturn:
        raise _body_error("The body is not valid JSON")


def field_errors(exc: ValidationError | Exception) -> list[dict[str, str]]:
    """Per-field details of a pydantic validation error."""
    if not isinstance(exc, ValidationError):
        return [{"field": "body", "message": str(exc), "type": "invalid"}]
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False)
    ]


def error_response(exc: errors.AppError) -> Response:
    """The JSON reply of an AppError, with the correlation id."""
    response = jsonify(exc.to_dict())
    response.status_code = exc.status
    for name, value in exc.headers.items():
        response.headers[name] = value
    return response


def _register_error_handlers(app: Quart) -> None:
    @app.errorhandler(errors.AppError)
    async def app_error(exc: errors.AppError) -> Response:
        return error_response(exc)

    @app.errorhandler(RequestSchemaValidationError)
    async def schema_error(exc: RequestSchemaValidationError) -> Response:
        return error_response(errors.ValidationFailed(details=field_errors(exc.validation_error)))

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        cls = _HTTP_ERRORS.get(status)
        if cls is None:
            error = errors.AppError(exc.description, code=(exc.name or "error").lower().replace(" ", "_"))
            error.status = status
        else:
            error = cls()
        return error_response(error)

    @app.errorhandler(Exception)
    async def unexpected(exc: Exception) -> Response:
        if isinstance(exc, asyncio.CancelledError):
            raise exc
        log.exception("unhandled error on %s %s", request.method, request.path)
        cid = correlation_id.get()
        return error_response(
            errors.AppError(f"Internal error; quote correlation id {cid}", details={"correlation_id": cid})
        )


def create_app(
    settings: Settings,
    *,
    embedded_worker: bool = False,
    events: EventLog | None = None,
    storage: Storage | None = None,
    limiter: RateLimiter | None = None,
    chat_model_factory: ChatModelFactory | None = None,
    embedder: Embedder | None = None,
) -> Quart:
    """A Switchboard app for these (resolved) settings; its jobs run in worker processes (with
    `embedded_worker`, tests run one arq worker inside instead).

    The seams (event log, storage, rate limiter, chat model factory, embedder) default to production's;
    pass one to run the app on another (a test's in-memory storage, a deployment's S3).
    """
    seams = contexts.Seams(events, storage, limiter, chat_model_factory, embedder)
    install_correlation_ids()
    app = Quart("switchboard")
    app.request_class = type(  # type: ignore[assignment]
        "SwitchboardRequest",
        (JSONRequest,),
        {
            "json_limit": settings.max_json_body_bytes,
            "upload_limit": settings.max_upload_bytes,
            "upload_paths": contexts.upload_paths(),
        },
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes + 65_536
    app.config["SETTINGS"] = settings
    QuartSchema(
        app,
        info=Info(title="Switchboard API", version=__version__),
        swagger_ui_path="/docs",
        redoc_ui_path=None,
        scalar_ui_path=None,
        openapi_provider_class=SwitchboardOpenAPI,
    )
    _register_error_handlers(app)

    @app.before_request
    async def bind_correlation_id() -> None:
        g.correlation_id = new_correlation_id(request.headers.get("X-Correlation-ID"))
        correlation_id.set(g.correlation_id)
        if request.path.startswith("/api/") and not signs_in(app.view_functions.get(request.endpoint or "")):
            await count_ip()  # a guarded route counts it beside the sign-in check

    @app.before_request
    async def refuse_unstorable_parameters() -> None:
        # the one rule for parameters, here so that a route reading `request.args` itself is covered too
        check_parameters("query", request.args.items(multi=True))
        check_parameters("path", (request.view_args or {}).items())

    app.before_request(operations.start_timer)
    app.after_request(operations.observe)

    @app.after_request
    async def echo_correlation_id(response: Response) -> Response:
        response.headers["X-Correlation-ID"] = getattr(g, "correlation_id", None) or new_correlation_id()
        # answers are per person and change with every decision (an agent denied a moment ago): never cached
        if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.while_serving
    async def lifecycle() -> AsyncGenerator[None, None]:
        runtime = await contexts.open_runtime(settings, seams)
        app.extensions["runtime"] = runtime
        worker_task = warming = None
        if embedded_worker:
            from switchboard.worker import build_worker

            worker = build_worker(settings, ctx={"runtime": runtime}, handle_signals=False)
            worker_task = asyncio.create_task(worker.main())
            # The process answers at once; the embedding model loads beside it (a request needing it waits).
            warming = asyncio.create_task(contexts.warm_up(runtime))
        yield
        if worker_task is not None:
            await worker.close()
            worker_task.cancel()
            await asyncio.gather(worker_task, return_exceptions=True)
        if warming is not None:
            await asyncio.gather(warming, return_exceptions=True)
        await contexts.close_runtime(runtime)

    for blueprint in contexts.blueprints():
        app.register_blueprint(blueprint)
    return app
