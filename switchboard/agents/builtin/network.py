"""Where the http agent may go: an admin's allow-list, and a guard against reaching internal addresses.

A URL is allowed when it matches an allow-list entry *and* every address its host resolves
to is public. Private, loopback, link-local, multicast, reserved and other non-global
addresses are refused unless an admin listed their network explicitly, so a model cannot
be talked into reading a cloud metadata service or an internal admin page (SSRF).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from switchboard.agents.errors import DestinationNotAllowed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    """A checked URL: its parts, and the address the request must go to."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    address: IPAddress

    def pinned(self) -> tuple[str, str, dict[str, str]]:
        """What a request sends to reach this host at the checked address, not at whatever its name resolves to
        next (DNS rebinding): the URL with the address in it, the `Host` header, and the TLS server name."""
        parts = urlsplit(self.url.strip())
        host = f"[{self.address}]" if isinstance(self.address, ipaddress.IPv6Address) else str(self.address)
        url = urlunsplit((self.scheme, f"{host}:{self.port}", parts.path or "/", parts.query, ""))
        default_port = 443 if self.scheme == "https" else 80
        host_header = self.host if self.port == default_port else f"{self.host}:{self.port}"
        return url, host_header, ({"sni_hostname": self.host} if self.scheme == "https" else {})


class PinnedClients:
    """HTTP clients for requests sent to checked addresses (`Target.pinned`): one per TLS server name.

    A connection pool keys its connections by the address it dialled, not by the name the certificate was
    checked for, so one shared client would send a request for `b.example` over a TLS session opened (and
    verified) for `a.example` whenever the two share an address, as hosts behind one CDN do. A client per
    name never does. Plain http shares one client. Past `LIMIT` names a request gets a client of its own.
    """

    LIMIT = 256

    def __init__(self, **options: Any) -> None:
        self._options = {"follow_redirects": False, "trust_env": False, **options}
        self._clients: dict[str, httpx.AsyncClient] = {}

    @contextlib.asynccontextmanager
    async def client(self, target: Target) -> AsyncIterator[httpx.AsyncClient]:
        """The client to send a request for `target` with."""
        name = target.host if target.scheme == "https" else ""
        found = self._clients.get(name)
        if found is None and len(self._clients) < self.LIMIT:
            found = self._clients[name] = httpx.AsyncClient(**self._options)
        if found is not None:
            yield found
            return
        async with httpx.AsyncClient(**self._options) as once:
            yield once

    @contextlib.asynccontextmanager
    async def sending(
        self, target: Target, method: str, *, headers: Mapping[str, str] | None = None, **options: Any
    ) -> AsyncIterator[httpx.Response]:
        """Send a request for `target` to its checked address, its name as `Host` and TLS server name; the
        response streams while the block runs (`options` go to `build_request`: content, json, timeout...)."""
        url, host, extensions = target.pinned()
        async with self.client(target) as client:
            request = client.build_request(method, url, headers={**(headers or {}), "Host": host}, **options)
            request.extensions.update(extensions)
            response = await client.send(request, stream=True)
            try:
                yield response
            finally:
                await response.aclose()

    async def aclose(self) -> None:
        """Close every pool."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


@dataclass(frozen=True)
class AllowEntry:
    """One allow-list entry: a host (`example.com`, `*.example.com`, `host:8080`) or a URL prefix."""

    host: str
    port: int | None  # None: the scheme's default port
    scheme: str | None = None  # set for URL prefixes
    path_prefix: str | None = None

    @classmethod
    def parse(cls, entry: str) -> AllowEntry:
        """An entry as an admin wrote it."""
        text = entry.strip()
        if "://" in text:
            parts = urlsplit(text)
            if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
                raise ValueError(f"allow-list entry {entry!r} must be an http(s) URL or a host name")
            return cls(parts.hostname.lower(), parts.port, parts.scheme, parts.path or "/")
        parts = urlsplit("//" + text)
        if not parts.hostname or parts.path or parts.query:
            raise ValueError(f"allow-list entry {entry!r} must be a host name, host:port or an http(s) URL")
        return cls(parts.hostname.lower(), parts.port)

    def matches(self, scheme: str, host: str, port: int, path: str) -> bool:
        """True when the URL's parts fall under this entry."""
        if self.host.startswith("*."):
            if not host.endswith(self.host[1:]):
                return False
        elif host != self.host:
            return False
        if port != (self.port or _DEFAULT_PORTS[self.scheme or scheme]):
            return False
        if self.scheme is not None and scheme != self.scheme:
            return False
        return self.path_prefix is None or _under(path, self.path_prefix)


@dataclass(frozen=True)
class Destinations:
    """Where the http agent may send requests."""

    allowed: tuple[AllowEntry, ...]
    private_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls, allowed: Sequence[str], private_networks: Sequence[str] = ()) -> Destinations:
        """From an admin's strings: allow-list entries, and the non-public networks they trust (CIDR)."""
        return cls(
            tuple(AllowEntry.parse(e) for e in allowed),
            tuple(ipaddress.ip_network(n, strict=False) for n in private_networks),
        )

    async def check(self, url: str) -> Target:
        """The URL's checked target; `DestinationNotAllowed` says why one is refused."""
        scheme, host, port, path = _split(url)
        if not any(entry.matches(scheme, host, port, path) for entry in self.allowed):
            raise DestinationNotAllowed(f"{scheme}://{host}:{port}{path} is not on the allow-list")
        return await _checked_target(url, scheme, host, port, path, self.private_networks)


async def check_public_url(url: str, private_networks: Sequence[str] = ()) -> Target:
    """Any http(s) URL whose host resolves only to public addresses, or to the trusted `private_networks` (CIDR).

    For endpoints a user names themselves (their own model server), where there is no allow-list.
    """
    scheme, host, port, path = _split(url)
    networks = tuple(ipaddress.ip_network(n, strict=False) for n in private_networks)
    return await _checked_target(url, scheme, host, port, path, networks)


async def _checked_target(
    url: str, scheme: str, host: str, port: int, path: str, private_networks: Sequence[IPNetwork]
) -> Target:
    addresses = await _resolve(host, port)
    for address in addresses:
        problem = _non_public(address)
        if problem and not any(address in network for network in private_networks):
            raise DestinationNotAllowed(f"{host} resolves to {address}, a {problem} address, which is not allowed")
    return Target(url, scheme, host, port, path, addresses[0])


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise DestinationNotAllowed(f"Not a valid URL: {url}") from exc
    if parts.scheme not in _DEFAULT_PORTS:
        raise DestinationNotAllowed("Only http and https URLs are allowed")
    if not parts.hostname:
        raise DestinationNotAllowed(f"The URL has no host: {url}")
    if parts.username is not None or parts.password is not None:
        raise DestinationNotAllowed("URLs with credentials in them are not allowed")
    return parts.scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[parts.scheme], parts.path or "/"


def _under(path: str, prefix: str) -> bool:
    # "/v1" allows "/v1" and "/v1/..." but not "/v1-admin".
    if prefix.endswith("/"):
        return path.startswith(prefix)
    return path == prefix or path.startswith(prefix + "/")


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DestinationNotAllowed(f"Cannot resolve {host}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise DestinationNotAllowed(f"Cannot resolve {host}")
    return addresses


def _non_public(address: IPAddress) -> str | None:
    """What kind of non-public address this is, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _non_public(address.ipv4_mapped)
    for kind, flag in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    ):
        if flag:
            return kind
    # Shared (carrier-grade NAT), documentation and other special ranges are not global either.
    return None if address.is_global else "non-global"
