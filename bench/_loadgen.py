"""``python -m bench._loadgen URL``: the load generator used when ``wrk`` is not installed.

Many keep-alive connections from one asyncio process (aiohttp client, uvloop when present),
each sending GETs back to back for the duration; prints one JSON :class:`LoadResult`.
It tops out at a few thousand requests per second on one CPU, well above what one Python
server answers, but wrk is steadier: ``bench._harness.run_load`` prefers it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict

import aiohttp

from bench._harness import LoadResult, parse_headers


async def generate(
    url: str, duration_s: float, connections: int, headers: Mapping[str, str]
) -> LoadResult:
    """GET ``url`` on ``connections`` connections for ``duration_s`` seconds."""
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        headers=dict(headers),
        timeout=aiohttp.ClientTimeout(total=30),
        cookie_jar=aiohttp.DummyCookieJar(),  # cookies would only cost time here
    ) as session:
        deadline = time.perf_counter() + duration_s

        async def worker() -> None:
            nonlocal errors
            while (started := time.perf_counter()) < deadline:
                try:
                    async with session.get(url) as response:
                        await response.read()
                        ok = response.status < 400
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        seconds = time.perf_counter() - began
    latencies.sort()

    def percentile(q: float) -> float:
        if not latencies:
            return math.nan
        return latencies[min(len(latencies) - 1, math.ceil(q * len(latencies)) - 1)] * 1e3

    done = len(latencies) + errors
    return LoadResult(
        requests=done,
        seconds=seconds,
        rps=done / seconds,
        p50_ms=percentile(0.50),
        p99_ms=percentile(0.99),
        errors=errors,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Command line (called by ``bench._harness.run_load``)."""
    parser = argparse.ArgumentParser(prog="python -m bench._loadgen")
    parser.add_argument("url")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args(argv)
    headers = parse_headers(args.header)
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:  # works without uvloop too, only slower
        runner = asyncio.Runner()
    with runner:
        result = runner.run(generate(args.url, args.duration, args.connections, headers))
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
