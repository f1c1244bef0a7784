"""The inventory service: POPs and mercury inventory of Peru."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from services.inventory.changes import router as changes_router
from services.inventory.imports.router import router as imports_router
from services.inventory.pcb.router import router as pcb_router
from services.inventory.registry.router import router as registry_router
from services.inventory.releases.router import mercury_router, upops_router
from services.inventory.reports.router import public_router
from services.inventory.reports.router import router as reports_router
from services.inventory.settings import InventorySettings
from services.inventory.submissions.router import router as submissions_router
from shared.app import build_service_app
from shared.problems import problem_response
from shared.tokens import KeySource

log = logging.getLogger("enlace.inventory")


def install_conflict_handlers(app: FastAPI) -> None:
    """Concurrent writes that lose a race become 409 problems, not 500s."""

    async def on_stale(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            409,
            "conflict",
            detail="The record was changed by another request at the same time; read it "
            "again and retry.",
            instance=request.url.path,
        )

    async def on_integrity(request: Request, exc: Exception) -> JSONResponse:
        # The constraint name says what collided; the SQL and values stay in the log.
        log.warning("integrity error: %s", type(getattr(exc, "orig", exc)).__name__)
        return problem_response(
            409,
            "conflict",
            detail="The change collides with existing data (a duplicate or a record "
            "created at the same time); read again and retry.",
            instance=request.url.path,
        )

    app.add_exception_handler(StaleDataError, on_stale)
    app.add_exception_handler(IntegrityError, on_integrity)


def create_app(
    settings: InventorySettings | None = None, *, key_source: KeySource | None = None
) -> FastAPI:
    """Build the inventory app (settings from the environment unless given; ``key_source``
    replaces the configured token keys)."""
    app = build_service_app(
        title="Enlace inventory",
        description=(
            "National inventory of persistent organic pollutants and mercury (Stockholm and "
            "Minamata conventions): holders, sites, PCB equipment, release estimates and "
            "inventory cycles."
        ),
        version="1.0.0",
        settings=settings or InventorySettings(),
        key_source=key_source,
        routers=[
            registry_router,
            submissions_router,
            pcb_router,
            imports_router,
            upops_router,
            mercury_router,
            reports_router,
            public_router,
            changes_router,
        ],
    )
    install_conflict_handlers(app)
    return app
