"""The http agent: only allowed URLs, never internal addresses unless an admin allowed their network."""

from __future__ import annotations

import time
from typing import Any

import pytest

from switchboard.agents import CallContext, PolicySet, decide_tool_call
from switchboard.agents.builtin import Destinations, HttpSettings, http_agent
from switchboard.agents.errors import DestinationNotAllowed, FetchFailed
from tests.fakes.openai_server import FakeOpenAI, RecordedRequest


async def get(settings: HttpSettings, url: str) -> Any:
    agent = http_agent(settings)
    tool = agent.tool("http_get")
    return await tool.call(CallContext(), tool.parse_arguments({"url": url}))


async def test_allowed_loopback_target_is_fetched(openai_server: FakeOpenAI) -> None:
    settings = HttpSettings(allowed=(f"{openai_server.origin}/v1/",), private_networks=("127.0.0.1/32",))
    result = await get(settings, f"{openai_server.base_url}/models")
    assert result["status"] == 200
    assert "fake-model" in result["body"]
    assert result["truncated"] is False
    [request] = openai_server.requests
    assert request.path == "/v1/models"
    assert request.headers["host"] == f"127.0.0.1:{openai_server.port}"


async def test_loopback_is_refused_unless_its_network_is_allowed(openai_server: FakeOpenAI) -> None:
    settings = HttpSettings(allowed=(f"{openai_server.origin}/v1/",))
    with pytest.raises(DestinationNotAllowed, match="loopback") as error:
        await get(settings, f"{openai_server.base_url}/models")
    assert error.value.status == 403
    assert openai_server.requests == []


async def test_a_name_that_resolves_to_loopback_is_refused(openai_server: FakeOpenAI) -> None:
    settings = HttpSettings(allowed=(f"localhost:{openai_server.port}",))
    with pytest.raises(DestinationNotAllowed, match=r"localhost resolves to .*loopback"):
        await get(settings, f"http://localhost:{openai_server.port}/v1/models")
    assert openai_server.requests == []


@pytest.mark.parametrize(
    "path",
    ["/v1-admin", "/", "/other/v1/models"],
)
async def test_paths_outside_the_allowed_prefix_are_refused(openai_server: FakeOpenAI, path: str) -> None:
    settings = HttpSettings(allowed=(f"{openai_server.origin}/v1/",), private_networks=("127.0.0.1/32",))
    with pytest.raises(DestinationNotAllowed, match="not on the allow-list"):
        await get(settings, f"{openai_server.origin}{path}")
    assert openai_server.requests == []


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("[::1]", "loopback"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("[fd00::1]", "private"),
        ("169.254.169.254", "link-local"),
        ("[fe80::1]", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-global"),
    ],
)
async def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    destinations = Destinations.from_settings([address])
    with pytest.raises(DestinationNotAllowed, match=f"a {kind} address"):
        await destinations.check(f"http://{address}/")


async def test_an_allowed_private_network_may_be_reached() -> None:
    destinations = Destinations.from_settings(["10.1.2.3"], private_networks=["10.0.0.0/8"])
    target = await destinations.check("http://10.1.2.3/status")
    assert str(target.address) == "10.1.2.3"


async def test_public_addresses_on_the_allow_list_pass() -> None:
    destinations = Destinations.from_settings(["93.184.215.14", "https://8.8.8.8/dns-query"])
    assert str((await destinations.check("http://93.184.215.14/anything")).address) == "93.184.215.14"
    assert (await destinations.check("https://8.8.8.8/dns-query?name=x")).port == 443
    with pytest.raises(DestinationNotAllowed, match="allow-list"):
        await destinations.check("http://8.8.8.8/dns-query")  # scheme is part of a URL prefix


@pytest.mark.parametrize(
    ("entries", "url", "allowed"),
    [
        (["api.example.com"], "https://api.example.com/v1/x", True),
        (["api.example.com"], "http://api.example.com/", True),
        (["api.example.com"], "https://api.example.com:8443/", False),
        (["api.example.com:8443"], "https://api.example.com:8443/", True),
        (["api.example.com"], "https://evil-api.example.com/", False),
        (["api.example.com"], "https://api.example.com.evil.net/", False),
        (["*.example.com"], "https://docs.example.com/", True),
        (["*.example.com"], "https://example.com/", False),
        (["https://api.example.com/v1"], "https://api.example.com/v1", True),
        (["https://api.example.com/v1"], "https://api.example.com/v1/users", True),
        (["https://api.example.com/v1"], "https://api.example.com/v10", False),
    ],
)
def test_allow_list_matching(entries: list[str], url: str, allowed: bool) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    destinations = Destinations.from_settings(entries)
    matched = any(e.matches(parts.scheme, parts.hostname or "", port, parts.path or "/") for e in destinations.allowed)
    assert matched is allowed


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://api.example.com/file", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("https://user:secret@api.example.com/", "credentials"),
        ("https:///nohost", "no host"),
        ("http://api.example.com:99999/", "Not a valid URL"),
    ],
)
async def test_malformed_or_dangerous_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(DestinationNotAllowed, match=why):
        await Destinations.from_settings(["api.example.com"]).check(url)


async def test_response_is_cut_at_the_size_cap(openai_server: FakeOpenAI) -> None:
    settings = HttpSettings(allowed=(openai_server.origin,), private_networks=("127.0.0.0/8",), max_response_bytes=20)
    result = await get(settings, f"{openai_server.base_url}/models")
    assert result["truncated"] is True
    assert len(result["body"]) == 20


async def test_redirects_are_not_followed(openai_server: FakeOpenAI) -> None:
    openai_server.route("GET", "/go", lambda r: (302, {"Location": "http://169.254.169.254/latest/"}, b""))
    settings = HttpSettings(allowed=(openai_server.origin,), private_networks=("127.0.0.1/32",))
    result = await get(settings, f"{openai_server.origin}/go")
    assert result["status"] == 302
    assert result["location"] == "http://169.254.169.254/latest/"
    assert [r.path for r in openai_server.requests] == ["/go"]


async def test_slow_destination_times_out(openai_server: FakeOpenAI) -> None:
    def slow(request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.0)
        return 200, {}, b"late"

    openai_server.route("GET", "/slow", slow)
    settings = HttpSettings(allowed=(openai_server.origin,), private_networks=("127.0.0.1/32",), timeout_seconds=0.2)
    with pytest.raises(FetchFailed, match=r"did not answer within 0\.2 s"):
        await get(settings, f"{openai_server.origin}/slow")


async def test_post_sends_json_and_needs_confirmation(openai_server: FakeOpenAI) -> None:
    settings = HttpSettings(allowed=(openai_server.origin,), private_networks=("127.0.0.1/32",))
    agent = http_agent(settings)
    tool = agent.tool("http_post")
    arguments = {"url": f"{openai_server.base_url}/embeddings", "json_body": {"input": ["hello"], "model": "e"}}
    verdict = decide_tool_call(PolicySet(), agent, tool, arguments)
    assert verdict.outcome == "confirm"
    assert verdict.arguments is not None
    result = await tool.call(CallContext(), verdict.arguments)  # as if a person approved it
    assert result["status"] == 200
    [request] = openai_server.requests
    assert request.method == "POST"
    assert request.body == {"input": ["hello"], "model": "e"}
    assert request.headers["content-type"] == "application/json"


async def test_headers_that_cannot_be_sent_are_a_clear_failure(openai_server: FakeOpenAI) -> None:
    settings = HttpSettings(allowed=(openai_server.origin,), private_networks=("127.0.0.1/32",))
    tool = http_agent(settings).tool("http_get")
    arguments = tool.parse_arguments({"url": f"{openai_server.base_url}/models", "headers": {"X-Name": "café ☕"}})
    with pytest.raises(FetchFailed, match="cannot be sent"):
        await tool.call(CallContext(), arguments)


async def test_requests_for_two_names_at_one_address_never_share_a_tls_connection() -> None:
    """Hosts behind one CDN share addresses: a connection opened (its certificate checked) for one name must not
    carry a request for another."""
    from ipaddress import ip_address

    from switchboard.agents.builtin.network import PinnedClients, Target

    def target(url: str, host: str, scheme: str = "https") -> Target:
        return Target(url, scheme, host, 443 if scheme == "https" else 80, "/", ip_address("93.184.215.14"))

    clients = PinnedClients()
    try:
        async with (
            clients.client(target("https://a.example/", "a.example")) as a,
            clients.client(target("https://b.example/", "b.example")) as b,
            clients.client(target("https://a.example/x", "a.example")) as a_again,
        ):
            assert a is not b and a is a_again
        async with (
            clients.client(target("http://a.example/", "a.example", "http")) as plain_a,
            clients.client(target("http://b.example/", "b.example", "http")) as plain_b,
        ):
            assert plain_a is plain_b  # no certificate to mix up: plain http names its host in each request
    finally:
        await clients.aclose()
