"""Rate limits on the Redis-protocol server, shared by every web process (the `limits` library)."""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from switchboard.platform.errors import RateLimited

# Named limits: stricter on authentication than on the API at large.
LIMITS: dict[str, str] = {
    "login": "10/minute",
    "register": "5/minute",
    "forgot_password": "3/hour",
    "reset_password": "5/minute",
    "resend_verification": "3/hour",
    "api_user": "600/minute",
    "api_ip": "1200/minute",
    "login_failures": "5/15minutes",
    "workflow_webhook": "120/minute",  # deliveries per webhook URL
    "secret_guesses": "10/minute",  # wrong METRICS_TOKEN, CRON_SECRET or BOOTSTRAP_TOKEN per IP
}


class RateLimiter:
    """Checks and counts hits of a named limit for a key (a user id, an IP, an email)."""

    def __init__(self, redis_url: str, overrides: dict[str, str] | None = None) -> None:
        storage_url = redis_url.replace("redis://", "async+redis://", 1)
        self.storage = RedisStorage(storage_url, implementation="redispy", key_prefix="sb:ratelimit")
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.items: dict[str, RateLimitItem] = {name: parse(v) for name, v in {**LIMITS, **(overrides or {})}.items()}

    async def hit(self, name: str, key: str, message: str | None = None) -> None:
        """Count one hit; RateLimited (429 with Retry-After) when the limit is exceeded."""
        item = self.items[name]
        if not await self.limiter.hit(item, name, key):
            raise RateLimited(await self._retry_after_ms(item, name, key), message)

    async def check(self, name: str, key: str, message: str | None = None) -> None:
        """RateLimited when the limit is already reached, without counting a hit."""
        item = self.items[name]
        if not await self.limiter.test(item, name, key):
            raise RateLimited(await self._retry_after_ms(item, name, key), message)

    async def clear(self, name: str, key: str) -> None:
        """Forget the hits of `key` (e.g. failures after a successful sign-in)."""
        await self.limiter.clear(self.items[name], name, key)

    async def _retry_after_ms(self, item: RateLimitItem, name: str, key: str) -> int:
        stats = await self.limiter.get_window_stats(item, name, key)
        return max(1, int((stats.reset_time - time.time()) * 1000))
