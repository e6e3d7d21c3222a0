"""The one path of every connector's outbound call: SSRF guard, timeouts, retries, size caps, errors translated.

One `httpx.AsyncClient` per process. A URL is called only when every address its host resolves to
is public, or in a network the operator trusts (INTEGRATIONS_PRIVATE_NETWORKS), the same guard the
`http` agent uses. 429 and 5xx are retried with exponential backoff, honouring `Retry-After`; a
write is retried on 5xx only when the provider dedupes it by an idempotency key we send. A provider
never sees our redirects followed, and an answer larger than the cap fails the call.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from switchboard.agents.builtin.network import PinnedClients, Target, check_public_url
from switchboard.agents.errors import DestinationNotAllowed as AgentDestinationNotAllowed
from switchboard.config import Settings
from switchboard.integrations.errors import (
    DestinationNotAllowed,
    IntegrationFailed,
    IntegrationRateLimited,
    IntegrationUnreachable,
)

MAX_RETRY_WAIT_S = 30.0
USER_AGENT = "Switchboard-integrations/1"


def retry_after_seconds(value: str | None, default: float) -> float:
    """Seconds a `Retry-After` header asks for (a number or an HTTP date), else `default`."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class Outbound:
    """Every connector's HTTP calls go through here (one per process, closed at shut-down)."""

    def __init__(
        self,
        *,
        private_networks: Sequence[str] = (),
        timeout: float = 15.0,
        max_retries: int = 3,
        max_response_bytes: int = 2_000_000,
        backoff_base: float = 0.25,
    ) -> None:
        self.private_networks = tuple(private_networks)
        self.max_retries = max_retries
        self.max_response_bytes = max_response_bytes
        self.backoff_base = backoff_base
        # sent to the checked address, over connections of its own name only (see PinnedClients)
        self.clients = PinnedClients(timeout=httpx.Timeout(timeout), headers={"User-Agent": USER_AGENT})

    @classmethod
    def from_settings(cls, settings: Settings) -> Outbound:
        """The client for these settings."""
        return cls(
            private_networks=settings.integrations_private_networks,
            timeout=settings.integrations_timeout_seconds,
            max_retries=settings.integrations_max_retries,
            max_response_bytes=settings.integrations_max_response_bytes,
        )

    async def close(self) -> None:
        """Close the connection pools."""
        await self.clients.aclose()

    async def check(self, url: str) -> str:
        """The address to reach; a private, loopback, link-local... host is refused unless its network is trusted."""
        return str((await self._target(url)).address)

    async def _target(self, url: str) -> Target:
        try:
            return await check_public_url(url, self.private_networks)
        except AgentDestinationNotAllowed as exc:
            raise DestinationNotAllowed(exc.message) from None

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        retry_server_errors: bool = True,
    ) -> httpx.Response:
        """Send one call (with retries) and return the provider's answer, whatever its status but 429 and 5xx."""
        attempt = 0
        while True:
            # checked on every attempt, and sent to the address checked (a name may resolve elsewhere next time)
            target = await self._target(url)
            try:
                response = await self._send(
                    target,
                    method,
                    headers=headers,
                    json=json,
                    content=content,
                    data=data,
                    params=params,
                )
            except httpx.TimeoutException as exc:
                if attempt < self.max_retries and retry_server_errors:
                    attempt += 1
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise IntegrationUnreachable(f"The provider did not answer in time ({method} {_where(url)})") from exc
            except httpx.HTTPError as exc:
                if attempt < self.max_retries and retry_server_errors:
                    attempt += 1
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise IntegrationUnreachable(f"The provider could not be reached ({_where(url)})") from exc
            status = response.status_code
            retryable = status == 429 or (status >= 500 and (retry_server_errors or status == 503))
            if not retryable:
                return response
            wait = retry_after_seconds(response.headers.get("retry-after"), self._backoff(attempt + 1))
            if attempt >= self.max_retries or wait > MAX_RETRY_WAIT_S:
                if status == 429:
                    raise IntegrationRateLimited(
                        int(wait * 1000) or 1000, "The provider is rate limiting us; try again later"
                    )
                raise IntegrationFailed(f"The provider answered {status} ({_where(url)})", details={"status": status})
            attempt += 1
            await asyncio.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        return float(min(MAX_RETRY_WAIT_S, self.backoff_base * 2 ** (attempt - 1)))

    async def _send(self, target: Target, method: str, **options: Any) -> httpx.Response:
        async with self.clients.sending(target, method, **options) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > self.max_response_bytes:
                    raise IntegrationFailed(f"The provider's answer is larger than {self.max_response_bytes} bytes")
        return httpx.Response(
            response.status_code, headers=_plain(response.headers), content=bytes(body), request=response.request
        )


def _plain(headers: httpx.Headers) -> list[tuple[str, str]]:
    # the body is handed on decoded already; the length and encoding of the wire no longer apply
    return [(k, v) for k, v in headers.items() if k.lower() not in ("content-encoding", "content-length")]


def _where(url: str) -> str:
    return httpx.URL(url).host
