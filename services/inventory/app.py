"""The inventory service: POPs and mercury inventory of Peru."""

from __future__ import annotations

from fastapi import FastAPI

from services.inventory.changes import router as changes_router
from services.inventory.events import EVENT_TYPES, READ_SCOPE, TABLES
from services.inventory.factors.router import router as factors_router
from services.inventory.imports.router import router as imports_router
from services.inventory.imports.router import templates_router
from services.inventory.mercury.router import router as mercury_router
from services.inventory.pcb.router import router as pcb_router
from services.inventory.plans.metric_router import router as metrics_router
from services.inventory.plans.router import public_router as public_plans_router
from services.inventory.plans.router import router as plans_router
from services.inventory.registry.router import router as registry_router
from services.inventory.reports.convention_router import public_router as public_curve_router
from services.inventory.reports.convention_router import router as convention_router
from services.inventory.reports.router import public_router
from services.inventory.reports.router import router as reports_router
from services.inventory.settings import InventorySettings
from services.inventory.submissions.router import router as submissions_router
from services.inventory.upops.router import router as upops_router
from services.inventory.wastes.router import router as wastes_router
from services.inventory.wastes.totals import public_router as wastes_public_router
from services.inventory.wastes.totals import router as wastes_totals_router
from services.inventory.workflow import router as workflow_router
from shared.app import build_service_app
from shared.offload import Workers
from shared.revocations import RevocationList
from shared.tokens import KeySource
from shared.webhooks.router import subscriptions_router
from shared.webhooks.worker import worker_task


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
            wastes_router,
            reports_router,
            convention_router,
            metrics_router,
            plans_router,
            public_router,
            public_curve_router,
            public_plans_router,
            templates_router,
            wastes_totals_router,
            wastes_public_router,
            changes_router,
            subscriptions_router(TABLES, read_scope=READ_SCOPE, event_types=EVENT_TYPES),
        ],
        background=[worker_task(TABLES)] if settings.webhook_worker else [],
    )
    app.state.import_workers = Workers.configured(settings)
    return app
