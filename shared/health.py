"""Liveness and readiness endpoints for a service that owns a database."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request

from shared.problems import Problem

log = logging.getLogger("enlace.health")

# What ``/health/ready`` asks: the components that are ready, or a 503 ``Problem``.
Readiness = Callable[[Request], Awaitable[dict[str, str]]]


def not_ready(request: Request, detail: str) -> Problem:
    """The 503 of a readiness check, with the process's ``Retry-After``."""
    retry_after = request.app.state.settings.retry_after_s
    return Problem(503, "not-ready", detail, headers={"Retry-After": str(retry_after)})


async def database_ready(request: Request) -> dict[str, str]:
    """Ready when the process's database answers ``SELECT 1``."""
    try:
        await request.app.state.db.ping()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("database not ready: %s", type(exc).__name__)
        raise not_ready(request, "The database is unreachable.") from None
    return {"database": "ok"}


def health_router(
    ready: Readiness = database_ready,
    ready_description: str = "200 when the database answers; 503 problem otherwise.",
) -> APIRouter:
    """``/health/live`` (the process answers) and ``/health/ready`` (``ready`` passes; by
    default: the database answers)."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="Liveness", description="200 while the process is serving.")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/ready",
        summary="Readiness",
        description=ready_description,
        responses={503: {"description": "Not ready"}},
    )
    async def readiness(request: Request) -> dict[str, str]:
        return {"status": "ok", **await ready(request)}

    return router
