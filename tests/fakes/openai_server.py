"""A small OpenAI-compatible server on 127.0.0.1 that plays scripted turns and records every request.

It speaks enough of the API for the real `openai` SDK:

- POST /v1/chat/completions, streaming (SSE `data: {...}` chunks, then `data: [DONE]`) or not;
- POST /v1/embeddings, with deterministic unit vectors derived from each input's text;
- GET /v1/models.

Each chat request takes the next scripted `Turn` (text pieces, tool calls with their
arguments cut into fragments, or an error status); with none queued it plays
`default_turn`. Every request is recorded (`requests`, `chat_requests()`), so a test can
assert what the SDK actually sent. Any other path can be served with `route(...)`.

It runs in a daemon thread, so it works from sync and async tests alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ScriptedToolCall:
    """A tool call the fake model makes; its arguments are streamed in `fragments` pieces."""

    name: str
    arguments: str | Mapping[str, Any] = "{}"
    id: str | None = None
    fragments: int = 3

    @property
    def arguments_text(self) -> str:
        """The arguments as JSON text."""
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass(frozen=True)
class Turn:
    """One scripted answer of the fake model."""

    text: tuple[str, ...] = ()  # streamed as these pieces, in order
    tool_calls: tuple[ScriptedToolCall, ...] = ()
    finish_reason: str | None = None  # default: tool_calls when there are any, else stop
    usage: Mapping[str, int] | None = None  # default: counted from the text
    status: int = 200
    error: str = ""  # the error message when status is not 200
    error_type: str = "invalid_request_error"
    delay: float = 0.0  # seconds between streamed chunks
    hang_up_after: int | None = None  # close the connection after this many chunks

    @classmethod
    def reply(cls, *pieces: str) -> Turn:
        """A text answer, streamed in these pieces."""
        return cls(text=pieces)

    @classmethod
    def call(
        cls,
        name: str,
        arguments: str | Mapping[str, Any] = "{}",
        *,
        id: str | None = None,
        fragments: int = 3,
        text: Sequence[str] = (),
    ) -> Turn:
        """An answer that asks for one tool call."""
        return cls(text=tuple(text), tool_calls=(ScriptedToolCall(name, arguments, id, fragments),))

    @classmethod
    def calls(cls, *tool_calls: ScriptedToolCall) -> Turn:
        """An answer that asks for several tool calls."""
        return cls(tool_calls=tool_calls)

    @classmethod
    def fail(cls, status: int, message: str, error_type: str = "invalid_request_error") -> Turn:
        """An error answer with an OpenAI-style error body."""
        return cls(status=status, error=message, error_type=error_type)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake server received."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any  # the JSON body, or the raw text when it is not JSON, or None

    @property
    def authorization(self) -> str | None:
        """The Authorization header, if any."""
        return self.headers.get("authorization")


Route = Callable[[RecordedRequest], tuple[int, Mapping[str, str], bytes]]


@dataclass
class FakeOpenAI:
    """An OpenAI-compatible HTTP server for tests; see the module docstring."""

    api_key: str | None = None  # when set, requests without `Bearer <api_key>` get 401
    models: tuple[str, ...] = ("fake-model",)
    embedding_dimensions: int = 16
    default_turn: Turn = field(default_factory=lambda: Turn.reply("OK"))
    # when set, chooses the turn from the request body (for concurrent callers whose order varies)
    responder: Callable[[dict[str, Any]], Turn] | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    _turns: deque[Turn] = field(default_factory=deque)
    _routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _connections: set[socket.socket] = field(default_factory=set)

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        """Listen on a free port of 127.0.0.1."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        # A short poll interval keeps stop() (and so each test's teardown) quick.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for conn in list(self._connections):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._connections.clear()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on."""
        assert self._server is not None, "the fake server is not started"
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        """`http://127.0.0.1:<port>`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The base URL to give the `openai` SDK: `http://127.0.0.1:<port>/v1`."""
        return f"{self.origin}/v1"

    # --- scripting and records -------------------------------------------------------------

    def script(self, *turns: Turn) -> None:
        """Queue turns; each chat completion request plays the next one."""
        with self._lock:
            self._turns.extend(turns)

    @property
    def pending_turns(self) -> int:
        """How many scripted turns have not been played yet."""
        with self._lock:
            return len(self._turns)

    def route(self, method: str, path: str, handler: Route) -> None:
        """Serve another path with `handler(request) -> (status, headers, body)`."""
        self._routes[(method.upper(), path)] = handler

    def chat_requests(self) -> list[Any]:
        """The JSON bodies of every chat completion request, in order."""
        with self._lock:
            return [r.body for r in self.requests if r.path == "/v1/chat/completions"]

    def last_chat_request(self) -> Any:
        """The JSON body of the latest chat completion request."""
        bodies = self.chat_requests()
        assert bodies, "no chat completion request was received"
        return bodies[-1]

    # --- internals used by the handler -----------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_turn(self, body: dict[str, Any] | None = None) -> Turn:
        if self.responder is not None and body is not None:
            return self.responder(body)
        with self._lock:
            return self._turns.popleft() if self._turns else self.default_turn

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_fake = fake

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked streaming
    server_fake: FakeOpenAI

    def setup(self) -> None:
        super().setup()
        self.server_fake._track(self.connection, True)

    def finish(self) -> None:
        self.server_fake._track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read the records, not a log

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        fake = self.server_fake
        path = self.path.split("?", 1)[0]
        request = RecordedRequest(method, path, {k.lower(): v for k, v in self.headers.items()}, self._read_body())
        fake._record(request)
        if (method, path) in fake._routes:
            status, headers, body = fake._routes[(method, path)](request)
            return self._send(status, body, headers)
        if fake.api_key is not None and request.authorization != f"Bearer {fake.api_key}":
            return self._error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        if (method, path) == ("POST", "/v1/chat/completions"):
            return self._chat(request.body)
        if (method, path) == ("POST", "/v1/embeddings"):
            return self._embeddings(request.body)
        if (method, path) == ("GET", "/v1/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in fake.models]
            return self._json(200, {"object": "list", "data": data})
        return self._error(404, f"Unknown path {path}", "invalid_request_error", "unknown_url")

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode("utf-8", errors="replace")

    # --- chat completions --------------------------------------------------------------------

    def _chat(self, body: Any) -> None:
        body = body if isinstance(body, dict) else {}
        model = str(body.get("model", "fake-model"))
        if model not in self.server_fake.models:
            return self._error(404, f"The model `{model}` does not exist", "invalid_request_error", "model_not_found")
        turn = self.server_fake._next_turn(body)
        if turn.status != 200:
            return self._error(turn.status, turn.error or "Scripted failure", turn.error_type, None)
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return self._stream(turn, completion_id, model, include_usage)
        return self._json(200, _completion(turn, completion_id, model))

    def _stream(self, turn: Turn, completion_id: str, model: str, include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for sent, chunk in enumerate(_chunks(turn, completion_id, model, include_usage)):
            if turn.hang_up_after is not None and sent >= turn.hang_up_after:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if turn.delay:
                time.sleep(turn.delay)
            self._write_chunk(f"data: {json.dumps(chunk)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # --- embeddings ----------------------------------------------------------------------------

    def _embeddings(self, body: Any) -> None:
        body = body if isinstance(body, dict) else {}
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs]
        dims = int(body.get("dimensions") or self.server_fake.embedding_dimensions)
        data = [{"object": "embedding", "index": i, "embedding": _vector(t, dims)} for i, t in enumerate(texts)]
        tokens = sum(len(t.split()) for t in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        self._json(200, {"object": "list", "data": data, "model": body.get("model", "fake-embedding"), "usage": usage})

    # --- replies -------------------------------------------------------------------------------

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _error(self, status: int, message: str, error_type: str, code: str | None) -> None:
        self._json(status, {"error": {"message": message, "type": error_type, "param": None, "code": code}})

    def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


def _chunks(turn: Turn, completion_id: str, model: str, include_usage: bool) -> Iterator[dict[str, Any]]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
        }

    yield chunk({"role": "assistant", "content": ""})
    for piece in turn.text:
        yield chunk({"content": piece})
    for index, call in enumerate(turn.tool_calls):
        head = {
            "index": index,
            "id": _call_id(call, index),
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        yield chunk({"tool_calls": [head]})
        for fragment in _fragments(call.arguments_text, call.fragments):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})
    yield chunk({}, _finish_reason(turn))
    if include_usage:
        yield {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [],
            "usage": _usage(turn),
        }


def _completion(turn: Turn, completion_id: str, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "".join(turn.text) or None}
    if turn.tool_calls:
        message["tool_calls"] = [
            {"id": _call_id(c, i), "type": "function", "function": {"name": c.name, "arguments": c.arguments_text}}
            for i, c in enumerate(turn.tool_calls)
        ]
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish_reason(turn), "logprobs": None}],
        "usage": _usage(turn),
    }


def _finish_reason(turn: Turn) -> str:
    return turn.finish_reason or ("tool_calls" if turn.tool_calls else "stop")


def _usage(turn: Turn) -> dict[str, int]:
    if turn.usage is not None:
        return dict(turn.usage)
    completion = len("".join(turn.text).split()) + sum(len(c.arguments_text) // 4 + 1 for c in turn.tool_calls)
    return {"prompt_tokens": 10, "completion_tokens": completion, "total_tokens": 10 + completion}


def _call_id(call: ScriptedToolCall, index: int) -> str:
    return call.id or f"call_{index}_{call.name}"


def _fragments(text: str, count: int) -> list[str]:
    """`text` cut into `count` pieces of near-equal length (never cutting it into empty pieces)."""
    count = max(1, min(count, len(text)))
    size = math.ceil(len(text) / count) if text else 0
    return [text[i : i + size] for i in range(0, len(text), size)] if text else []


def _vector(text: str, dimensions: int) -> list[float]:
    """A deterministic unit vector for `text`: equal texts get equal vectors."""
    raw: list[float] = []
    counter = 0
    while len(raw) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        raw.extend((b - 127.5) / 127.5 for b in digest)
        counter += 1
    vector = raw[:dimensions]
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
