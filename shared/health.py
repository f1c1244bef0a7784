"""Liveness and readiness endpoints for a service that owns a database."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from shared.problems import problem_response

log = logging.getLogger("enlace.health")


def health_router() -> APIRouter:
    """``/health/live`` (the process answers) and ``/health/ready`` (its database answers)."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", summary="Liveness", description="200 while the process is serving.")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/ready",
        summary="Readiness",
        description="200 when the database answers; 503 problem otherwise.",
        responses={503: {"description": "Database unreachable"}},
        response_model=None,
    )
    async def ready(request: Request) -> JSONResponse | dict[str, str]:
        try:
            await request.app.state.db.ping()
        except Exception as exc:  # any failure means "not ready"; the reason goes to the log
            log.warning("database not ready: %s", type(exc).__name__)
            return problem_response(
                503,
                "not-ready",
                detail="The database is unreachable.",
                instance=request.url.path,
                headers={"Retry-After": "5"},
            )
        return {"status": "ok", "database": "ok"}

    return router
