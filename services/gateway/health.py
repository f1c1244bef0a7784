"""``GET /health``: the gateway and each backend."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.gateway.access import AccessState
from shared.health import not_ready

router = APIRouter(tags=["health"])


class HealthCache:
    """The last health report, kept ``ttl_s`` seconds: anonymous calls to ``/health`` reach
    the services and the database at most once per period, however many there are."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._report: tuple[dict[str, Any], bool] | None = None
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def get(self, request: Request) -> tuple[dict[str, Any], bool]:
        """The report (body, ok), computed again when older than ``ttl_s``."""
        async with self._lock:  # concurrent callers share one round of probes
            if self._report is None or time.monotonic() - self._at >= self.ttl_s:
                self._report = await _report(request)
                self._at = time.monotonic()
            return self._report


async def _report(request: Request) -> tuple[dict[str, Any], bool]:
    clients: dict[str, httpx.AsyncClient] = request.app.state.clients
    names = list(clients)
    results = await asyncio.gather(*(_probe(clients[n]) for n in names))
    components = dict(zip(names, results, strict=True))
    try:
        await request.app.state.db.ping()
        components["gateway_database"] = "ok"
    except Exception:  # any failure is "unreachable"; details stay in the server
        components["gateway_database"] = "unreachable"
    ok = all(v == "ok" for v in components.values())
    return {"status": "ok" if ok else "degraded", "components": components}, ok


async def _probe(client: httpx.AsyncClient) -> str:
    try:
        response = await client.get("/health/ready", timeout=2.0)
    except httpx.HTTPError:
        return "unreachable"
    return "ok" if response.status_code == 200 else f"not ready ({response.status_code})"


@router.get(
    "/health",
    summary="Health of the suite",
    description="The gateway's database and the readiness of each backend service. "
    "200 when everything is ok, 503 otherwise. Answered from a cache of a few seconds.",
    responses={503: {"description": "A component is not ready"}},
)
async def health(request: Request) -> JSONResponse:
    """Report each component; 503 when any is not ok."""
    cache: HealthCache = request.app.state.health
    body, ok = await cache.get(request)
    retry_after = str(request.app.state.settings.retry_after_s)
    return JSONResponse(
        body,
        status_code=200 if ok else 503,
        headers={} if ok else {"Retry-After": retry_after},
    )


async def access_ready(request: Request) -> dict[str, str]:
    """The gateway's readiness: it has read the clients and revoked tokens at least once.
    Its database going down later does not make it unready: it forwards on the last state
    read (``/health`` shows the database as unreachable)."""
    access: AccessState = request.app.state.access
    if not access.loaded:
        raise not_ready(request, "The gateway has not read its clients from its database yet.")
    return {"access_state": "loaded"}
