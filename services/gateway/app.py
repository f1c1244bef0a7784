"""The gateway: the only public entry to Enlace."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from services.gateway.backends import make_clients
from services.gateway.health import router as health_router
from services.gateway.proxy import ProxyMiddleware
from services.gateway.settings import GatewaySettings
from shared.db import Database
from shared.health import health_router as own_health_router
from shared.middleware import RequestContextMiddleware
from shared.problems import install_problem_handlers


def create_app(
    settings: GatewaySettings | None = None,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """Build the gateway (settings from the environment unless given).

    ``transports`` lets tests put the real service apps behind the gateway in-process.
    """
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(
            settings.database_url, pool_size=settings.db_pool_size, timeout_s=settings.db_timeout_s
        )
        app.state.clients = make_clients(settings, transports)
        try:
            yield
        finally:
            for client in app.state.clients.values():
                await client.aclose()
            await app.state.db.close()

    app = FastAPI(
        title="Enlace",
        description=(
            "Gateway of Enlace, the data-exchange layer for environmental cooperation in Peru."
        ),
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clients = {}
    install_problem_handlers(app)
    app.include_router(health_router)
    app.include_router(own_health_router())
    app.add_middleware(
        ProxyMiddleware, clients=lambda: app.state.clients, retry_after_s=settings.retry_after_s
    )
    app.add_middleware(RequestContextMiddleware, access_log_enabled=settings.access_log)
    return app
