"""Assembly common to the inventory and cooperation services."""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI

from shared.db import Database
from shared.health import health_router
from shared.logging import configure_logging
from shared.middleware import RequestContextMiddleware
from shared.problems import install_problem_handlers
from shared.settings import ResourceServiceSettings, ServiceSettings
from shared.tokens import JwksClient, KeySource, StaticKeys, TokenVerifier


def build_service_app(
    *,
    title: str,
    description: str,
    version: str,
    settings: ResourceServiceSettings,
    routers: Sequence[APIRouter],
    key_source: KeySource | None = None,
) -> FastAPI:
    """A FastAPI app with the database lifespan, token verification, health, problems and
    request context. ``key_source`` replaces the configured public keys (tests)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database.from_settings(settings)
        keys, closer = key_source, None
        if keys is None:
            keys = closer = keys_from_settings(settings)
        app.state.verifier = TokenVerifier(
            keys,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            leeway_s=settings.token_leeway_s,
        )
        try:
            yield
        finally:
            if isinstance(closer, JwksClient):
                await closer.aclose()
            await app.state.db.close()

    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    app.state.settings = settings
    install_problem_handlers(app)
    app.include_router(health_router())
    for router in routers:
        app.include_router(router)
    app.add_middleware(RequestContextMiddleware, access_log_enabled=settings.access_log)
    return app


def keys_from_settings(settings: ResourceServiceSettings) -> KeySource:
    """Public keys from configured JSON, else from the gateway's JWKS URL."""
    if settings.jwks_json:
        return StaticKeys(json.loads(settings.jwks_json))
    if settings.jwks_url:
        return JwksClient(settings.jwks_url, cooldown_s=settings.jwks_cooldown_s)
    raise RuntimeError("set <SERVICE>_JWKS_URL (the gateway's JWKS) or <SERVICE>_JWKS_JSON")


def uvicorn_options(settings: ServiceSettings) -> dict[str, Any]:
    """How uvicorn runs a process: its address, fast loop and parser, our own logs, and
    forwarding headers believed only from ``trusted_proxies``."""
    trusted = settings.trusted_proxies.strip()
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": "httptools",
        "access_log": False,
        "log_config": None,
        "server_header": False,
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
    }


def serve(app: FastAPI, settings: ServiceSettings, service: str) -> None:
    """Run ``app`` under uvicorn (uvloop + httptools) with JSON logs."""
    configure_logging(service, settings.log_level)
    # Objects alive after start-up never need collecting; freezing them shortens GC pauses.
    gc.collect()
    gc.freeze()
    logging.getLogger("enlace").info("starting", extra={"port": settings.port})
    uvicorn.run(app, **uvicorn_options(settings))
