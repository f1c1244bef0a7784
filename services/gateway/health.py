"""``GET /health``: the gateway and each backend."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


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
    "200 when everything is ok, 503 otherwise.",
    responses={503: {"description": "A component is not ready"}},
)
async def health(request: Request) -> JSONResponse:
    """Report each component; 503 when any is not ok."""
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
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "components": components},
        status_code=200 if ok else 503,
        headers={} if ok else {"Retry-After": "5"},
    )
