"""Fixed-window rate limits per client (and per IP on /oauth/token), using ``limits``.

In-process counters by default; with a Redis URL every gateway process shares them.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter


@dataclass(frozen=True)
class RateLimitResult:
    """The outcome of counting one request, with the RateLimit header values."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        """``RateLimit-*`` headers (and ``Retry-After`` when refused)."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(self.reset_s, 1))
        return headers


class RateLimiter:
    """Counts requests per key in one-minute windows."""

    def __init__(self, redis_url: str | None = None) -> None:
        self.storage: Storage = (
            RedisStorage(
                redis_url.replace("redis://", "async+redis://", 1), implementation="redispy"
            )
            if redis_url
            else MemoryStorage()
        )
        self.limiter = FixedWindowRateLimiter(self.storage)
        self._items: dict[int, RateLimitItemPerMinute] = {}

    async def aclose(self) -> None:
        """Close the connections to Redis, if any (the app's lifespan should call this)."""
        if isinstance(self.storage, RedisStorage):
            client = getattr(self.storage.bridge, "storage", None)
            if client is not None:
                await client.aclose()

    async def hit(self, key: str, per_minute: int) -> RateLimitResult:
        """Count one request for ``key`` and say whether it is within ``per_minute``."""
        item = self._items.get(per_minute)
        if item is None:
            item = self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        allowed = await self.limiter.hit(item, key)
        stats = await self.limiter.get_window_stats(item, key)
        return RateLimitResult(
            allowed=allowed,
            limit=per_minute,
            remaining=max(stats.remaining, 0),
            reset_s=max(math.ceil(stats.reset_time - time.time()), 0),
        )
