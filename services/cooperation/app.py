"""The cooperation service: work programs, the activity matrix, donor pull."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.cooperation.activities.public import router as public_router
from services.cooperation.activities.router import router as activities_router
from services.cooperation.activities.validation import router as validation_router
from services.cooperation.activities.vocabularies import router as vocabularies_router
from services.cooperation.bindings.feed import InventoryFeed
from services.cooperation.bindings.router import router as bindings_router
from services.cooperation.events import EVENT_TYPES, READ_SCOPE, TABLES
from services.cooperation.exchange.export_router import router as export_router
from services.cooperation.exchange.import_router import router as import_router
from services.cooperation.matrix.router import router as matrix_router
from services.cooperation.programs.router import router as programs_router
from services.cooperation.settings import CooperationSettings
from shared.app import build_service_app
from shared.offload import Workers
from shared.revocations import RevocationList
from shared.tokens import KeySource
from shared.webhooks.router import subscriptions_router
from shared.webhooks.worker import worker_task


def create_app(
    settings: CooperationSettings | None = None,
    *,
    key_source: KeySource | None = None,
    revocations: RevocationList | None = None,
) -> FastAPI:
    """Build the cooperation app (settings from the environment unless given;
    ``key_source`` and ``revocations`` replace the configured token keys and revocation list)."""
    settings = settings or CooperationSettings()
    app = build_service_app(
        title="Enlace cooperation",
        description=(
            "Environmental cooperation work programs and their activity matrix: goals, "
            "priority areas, activities, indicators, donor pull and IATI 2.03 exports."
        ),
        version="1.0.0",
        settings=settings,
        key_source=key_source,
        revocations=revocations,
        routers=[
            programs_router,
            activities_router,
            validation_router,
            public_router,
            export_router,
            matrix_router,
            import_router,
            vocabularies_router,
            subscriptions_router(TABLES, read_scope=READ_SCOPE, event_types=EVENT_TYPES),
            bindings_router,
        ],
        background=[worker_task(TABLES)] if settings.webhook_worker else [],
    )
    app.state.import_workers = Workers.configured(settings)
    feed = app.state.inventory_feed = InventoryFeed(settings)
    served = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The database first; then the inventory feed's first refresh, in the background
        # (the service starts whether or not the gateway is up).
        async with served(app):
            feed.start(app.state.db)
            try:
                yield
            finally:
                await feed.aclose()

    app.router.lifespan_context = lifespan
    return app
