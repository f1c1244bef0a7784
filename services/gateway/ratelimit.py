"""Fixed-window rate limits per client (and per IP on /oauth/token).

In-process counters by default (a dict: the limiter runs on every proxied request, and the
``limits`` library's in-memory storage cost several times more per hit); with a Redis URL
every gateway process shares them, through ``limits``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
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

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The same headers as :meth:`headers`, for an ASGI response."""
        return [(k.lower().encode(), v.encode()) for k, v in self.headers().items()]

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


WINDOW_S = 60


class MemoryWindows:
    """Fixed one-minute windows in this process: a window starts at a key's first request
    and ends a minute later; windows that ended are swept once a minute."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._windows: dict[str, list[float]] = {}  # key -> [ends at, requests]
        self._sweep_at = 0.0

    def hit(self, key: str, per_minute: int) -> RateLimitResult:
        now = self.clock()
        if now >= self._sweep_at:
            self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
            self._sweep_at = now + WINDOW_S
        window = self._windows.get(key)
        if window is None or window[0] <= now:
            window = self._windows[key] = [now + WINDOW_S, 0]
        window[1] += 1
        return RateLimitResult(
            allowed=window[1] <= per_minute,
            limit=per_minute,
            remaining=max(per_minute - int(window[1]), 0),
            reset_s=max(math.ceil(window[0] - now), 0),
        )


class RateLimiter:
    """Counts requests per key in one-minute windows."""

    def __init__(self, redis_url: str | None = None) -> None:
        self.memory = None if redis_url else MemoryWindows()
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
        if self.memory is not None:
            return self.memory.hit(key, per_minute)
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
