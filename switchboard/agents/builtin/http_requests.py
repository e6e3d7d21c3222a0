"""The `http` agent: GET and POST to URLs an admin has allowed.

Each request goes to the exact address that was checked (the host is resolved once, the
connection is pinned to that address and the original name is sent as Host and TLS SNI),
so a DNS answer that changes between the check and the connection cannot reach an internal
address. Redirects are not followed: the model sees the status and the Location and may
ask again, and that new URL is checked like any other. Responses are cut at a size cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pydantic

from switchboard.agents.builtin.network import Destinations
from switchboard.agents.errors import FetchFailed
from switchboard.agents.registry import Agent, CallContext, Tool

# Headers that describe the connection or the body are ours to set, never the model's.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "upgrade", "te"})


@dataclass(frozen=True)
class HttpSettings:
    """What an admin configured for the http agent."""

    allowed: tuple[str, ...] = ()  # hosts, *.domains, host:port, or URL prefixes
    private_networks: tuple[str, ...] = ()  # non-public networks (CIDR) that may be reached anyway
    timeout_seconds: float = 10.0
    max_response_bytes: int = 1_000_000
    max_request_bytes: int = 100_000
    user_agent: str = "Switchboard-http-agent/1"
    destinations: Destinations = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "destinations", Destinations.from_settings(self.allowed, self.private_networks))


class HttpGetArgs(pydantic.BaseModel):
    """Arguments of `http_get`."""

    url: str = pydantic.Field(description="The http(s) URL to fetch; it must be on the admin's allow-list")
    headers: dict[str, str] = pydantic.Field(default_factory=dict, description="Extra request headers")


class HttpPostArgs(pydantic.BaseModel):
    """Arguments of `http_post`."""

    url: str = pydantic.Field(description="The http(s) URL to post to; it must be on the admin's allow-list")
    json_body: Any = pydantic.Field(default=None, description="A JSON body to send")
    text_body: str | None = pydantic.Field(default=None, description="A text body to send, when not JSON")
    headers: dict[str, str] = pydantic.Field(default_factory=dict, description="Extra request headers")


async def fetch(
    settings: HttpSettings,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    content: bytes | None = None,
) -> dict[str, Any]:
    """Send one request to an allowed URL and return status, headers of note and the (capped) body."""
    if content is not None and len(content) > settings.max_request_bytes:
        raise FetchFailed(f"The request body is larger than {settings.max_request_bytes} bytes", code="fetch_too_large")
    target = await settings.destinations.check(url)
    sent = {k: v for k, v in (headers or {}).items() if k.lower() not in _RESERVED_HEADERS}
    sent.setdefault("User-Agent", settings.user_agent)
    pinned_url, sent["Host"], extensions = target.pinned()
    timeout = httpx.Timeout(settings.timeout_seconds)
    try:
        # trust_env=False: an environment proxy would make the connection somewhere other than the checked address.
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(method, pinned_url, headers=sent, content=content)
            request.extensions.update(extensions)
            response = await client.send(request, stream=True)
            try:
                body, truncated = await _read_capped(response, settings.max_response_bytes)
            finally:
                await response.aclose()
    except httpx.TimeoutException as exc:
        raise FetchFailed(f"{url} did not answer within {settings.timeout_seconds:g} s") from exc
    except httpx.HTTPError as exc:
        raise FetchFailed(f"The request to {url} failed: {exc or type(exc).__name__}") from exc
    except (httpx.InvalidURL, UnicodeError) as exc:
        # Headers or a URL a model made up that cannot go on the wire at all.
        raise FetchFailed(f"The request to {url} cannot be sent: {exc}", code="fetch_invalid") from exc
    return {
        "url": url,
        "status": response.status_code,
        "content_type": response.headers.get("content-type", ""),
        "location": response.headers.get("location"),
        "body": body.decode(response.encoding or "utf-8", errors="replace"),
        "truncated": truncated,
    }


async def _read_capped(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    received = bytearray()
    async for chunk in response.aiter_bytes():
        received.extend(chunk)
        if len(received) > cap:
            return bytes(received[:cap]), True
    return bytes(received), False


def http_agent(settings: HttpSettings) -> Agent:
    """The http agent, sending requests only where `settings` allows."""

    async def http_get(context: CallContext, args: HttpGetArgs) -> dict[str, Any]:
        return await fetch(settings, "GET", args.url, headers=args.headers)

    async def http_post(context: CallContext, args: HttpPostArgs) -> dict[str, Any]:
        headers = dict(args.headers)
        if args.text_body is not None:
            content = args.text_body.encode()
        else:
            content = pydantic.TypeAdapter(Any).dump_json(args.json_body)
            headers.setdefault("Content-Type", "application/json")
        return await fetch(settings, "POST", args.url, headers=headers, content=content)

    allowed = ", ".join(settings.allowed) or "nothing yet"
    return Agent(
        "http",
        f"Reads web pages and calls web APIs over HTTP. Allowed destinations: {allowed}.",
        (
            Tool("http_get", "Fetch a URL with GET and return its status and body.", HttpGetArgs, http_get, "read"),
            Tool(
                "http_post",
                "Send a POST request to a URL and return its status and body.",
                HttpPostArgs,
                http_post,
                "write",
            ),
        ),
    )
