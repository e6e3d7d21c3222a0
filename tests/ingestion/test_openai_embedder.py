"""The OpenAI-compatible embedder against a local server that speaks the embeddings protocol."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from switchboard.ingestion import OpenAIEmbedder
from switchboard.platform.errors import IntegrationError


class EmbeddingsServer(BaseHTTPRequestHandler):
    """POST /v1/embeddings: vector [len(text), 1, 0], answers listed in reverse order like some servers do."""

    requests: list[dict[str, Any]]
    reply_status = 200
    reply_dim = 3

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if self.reply_status != 200:
            answer: dict[str, Any] = {"error": {"message": "Invalid API key", "type": "invalid_request_error"}}
        else:
            data = [
                {"object": "embedding", "index": i, "embedding": [float(len(text)), 1.0, 0.0][: self.reply_dim]}
                for i, text in enumerate(body["input"])
            ]
            answer = {"object": "list", "data": data[::-1], "model": body["model"], "usage": {}}
        payload = json.dumps(answer).encode()
        self.send_response(self.reply_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[EmbeddingsServer]]]:
    handler = type("Handler", (EmbeddingsServer,), {"requests": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", handler
    httpd.shutdown()
    httpd.server_close()


async def test_vectors_come_back_in_order_normalised_and_batched(server: tuple[str, type[EmbeddingsServer]]) -> None:
    url, handler = server
    embedder = OpenAIEmbedder(model="mini", dim=3, base_url=url, api_key="sk-test", batch_size=2)
    vectors = await embedder.embed(["abc", "a", "abcd", "ab", "abcde"])
    await embedder.aclose()
    assert [round(v[0] / v[1]) for v in vectors] == [3, 1, 4, 2, 5]
    assert all(abs(sum(x * x for x in v) - 1.0) < 1e-9 for v in vectors)
    assert [r["input"] for r in handler.requests] == [["abc", "a"], ["abcd", "ab"], ["abcde"]]
    assert handler.requests[0]["path"] == "/v1/embeddings"
    assert handler.requests[0]["auth"] == "Bearer sk-test"
    assert handler.requests[0]["model"] == "mini"


async def test_a_refusal_becomes_an_integration_error_with_the_reason(
    server: tuple[str, type[EmbeddingsServer]],
) -> None:
    url, handler = server
    handler.reply_status = 401
    embedder = OpenAIEmbedder(model="mini", dim=3, base_url=url, api_key="wrong")
    with pytest.raises(IntegrationError) as caught:
        await embedder.embed(["hello"])
    await embedder.aclose()
    assert caught.value.status == 502
    assert caught.value.message == "The embeddings service refused the request (401): Invalid API key"


async def test_vectors_of_the_wrong_size_are_refused(server: tuple[str, type[EmbeddingsServer]]) -> None:
    url, handler = server
    handler.reply_dim = 2
    embedder = OpenAIEmbedder(model="mini", dim=3, base_url=url)
    with pytest.raises(IntegrationError, match="vectors of 2 numbers, expected 3"):
        await embedder.embed(["hello"])
    await embedder.aclose()


async def test_an_unreachable_service_becomes_an_integration_error() -> None:
    embedder = OpenAIEmbedder(model="mini", dim=3, base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=5)
    with pytest.raises(IntegrationError, match="could not be reached"):
        await embedder.embed(["hello"])
    await embedder.aclose()
