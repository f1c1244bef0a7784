"""The inventory service: POPs and mercury inventory of Peru."""

from __future__ import annotations

from fastapi import FastAPI

from services.inventory.changes import router as changes_router
from services.inventory.factors.router import router as factors_router
from services.inventory.imports.router import router as imports_router
from services.inventory.mercury.router import router as mercury_router
from services.inventory.pcb.router import router as pcb_router
from services.inventory.plans.metric_router import router as metrics_router
from services.inventory.registry.router import router as registry_router
from services.inventory.reports.router import public_router
from services.inventory.reports.router import router as reports_router
from services.inventory.settings import InventorySettings
from services.inventory.submissions.router import router as submissions_router
from services.inventory.upops.router import router as upops_router
from services.inventory.workflow import router as workflow_router
from shared.app import build_service_app
from shared.offload import Workers
from shared.revocations import RevocationList
from shared.tokens import KeySource


def create_app(
    settings: InventorySettings | None = None,
    *,
    key_source: KeySource | None = None,
    revocations: RevocationList | None = None,
) -> FastAPI:
    """Build the inventory app (settings from the environment unless given;
    ``key_source`` and ``revocations`` replace the configured token keys and revocation list)."""
    settings = settings or InventorySettings()
    app = build_service_app(
        title="Enlace inventory",
        description=(
            "National inventory of persistent organic pollutants and mercury (Stockholm and "
            "Minamata conventions): holders, sites, PCB equipment, release estimates and "
            "inventory cycles."
        ),
        version="1.0.0",
        settings=settings,
        key_source=key_source,
        revocations=revocations,
        routers=[
            registry_router,
            submissions_router,
            workflow_router,
            pcb_router,
            imports_router,
            factors_router,
            upops_router,
            mercury_router,
            reports_router,
            metrics_router,
            public_router,
            changes_router,
        ],
    )
    app.state.import_workers = Workers.configured(settings)
    return app
