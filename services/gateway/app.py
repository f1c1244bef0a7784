"""The gateway: the only public entry to Enlace."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.access import AccessState
from services.gateway.admin import router as admin_router
from services.gateway.audit import AuditLog
from services.gateway.backends import BACKENDS, make_clients
from services.gateway.breaker import CircuitBreaker
from services.gateway.clients import HasherBusy, SecretHasher
from services.gateway.cors import PublicCors, public_paths
from services.gateway.edge import EdgeMiddleware, HeaderLimits
from services.gateway.health import HealthCache, access_ready
from services.gateway.health import router as health_router
from services.gateway.keys import KeyStore
from services.gateway.landing import router as landing_router
from services.gateway.oauth import hasher_busy
from services.gateway.oauth import router as oauth_router
from services.gateway.openapi import MergedDocument, mount_assets
from services.gateway.openapi import router as docs_router
from services.gateway.pages.router import mount_page_assets
from services.gateway.pages.router import router as pages_router
from services.gateway.proxy import Edge, ProxyMiddleware
from services.gateway.ratelimit import RateLimiter
from services.gateway.settings import GatewaySettings
from services.gateway.upstream import make_upstreams
from shared.db import Database
from shared.forwarded import ForwardedHeaders, PublicOrigin
from shared.health import health_router as own_health_router
from shared.metrics import ProcessMetrics, metrics_router, pool_gauges
from shared.middleware import RequestContextMiddleware
from shared.problems import install_problem_handlers
from shared.tokens import TokenVerifier


class Gateway(FastAPI):
    """The gateway's FastAPI app (its own routes: token, admin, docs, health). A request to a
    backend's path skips FastAPI's routing and middleware stack (they cost more per request
    than forwarding it): it goes through ``forwarding``, the gateway's own pure-ASGI layers
    (forwarded headers, request context and access log, edge limits and audit, proxy)."""

    forwarding: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.forwarding is not None:
            edge: Edge | None = self.state.edge
            if edge is not None and scope["path"][1:].partition("/")[0] in edge.clients:
                await self.forwarding(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def full_stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Every layer, FastAPI's included (what ``forwarding`` falls back to)."""
        await super().__call__(scope, receive, send)


BREAKER_STATES = ("closed", "open", "half_open")


def gateway_gauges(
    audit: AuditLog | None, edge: Edge | None
) -> Iterator[tuple[str, str, dict[str, str], float]]:
    """The audit log's backlog and each backend's circuit breaker, when scraped."""
    if audit is not None:
        yield (
            "enlace_audit_pending_entries",
            "Audit entries waiting to be stored.",
            {},
            audit.pending,
        )
        yield (
            "enlace_audit_spooling",
            "1 while audit entries go to the local spool.",
            {},
            int(audit.spooling),
        )
    if edge is not None:
        help_text = "1 for the state each backend's circuit breaker is in."
        for backend, breaker in edge.breakers.items():
            current = breaker.state
            for state in BREAKER_STATES:
                labels = {"backend": backend, "state": state}
                yield "enlace_breaker_state", help_text, labels, float(current == state)


def create_app(
    settings: GatewaySettings | None = None,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> Gateway:
    """Build the gateway (settings from the environment unless given).

    ``transports`` lets tests put the real service apps behind the gateway in-process.
    """
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Nothing here needs the database: the gateway starts, and forwards, while it is
        # down (README "When a database is down").
        db = app.state.db = Database.from_settings(settings)
        keys = app.state.keys = KeyStore(settings.keys_dir)
        keys.ensure()
        app.state.verifier = TokenVerifier(
            keys,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            leeway_s=settings.token_leeway_s,
        )
        access = app.state.access = AccessState(
            db,
            refresh_s=settings.revocation_refresh_s,
            horizon_s=settings.token_lifetime_s + settings.token_leeway_s,
            retry_after_s=settings.retry_after_s,
        )
        await access.start()
        app.state.revocation_check = access.allows
        app.state.limiter = RateLimiter(settings.redis_url)
        audit = app.state.audit = AuditLog(
            db,
            flush_s=settings.audit_flush_ms / 1000,
            max_batch=settings.audit_max_batch,
            spool_dir=settings.audit_spool_dir or None,
            heartbeat_s=settings.audit_heartbeat_s,
            write_timeout_s=settings.db_timeout_s,
            refuse_s=settings.retry_after_s,
        )
        app.state.verify_lock = asyncio.Lock()
        await audit.start()
        app.state.clients = make_clients(settings, transports)
        app.state.edge = Edge(
            clients=app.state.clients,
            upstreams=make_upstreams(app.state.clients),
            breakers={
                name: CircuitBreaker(
                    failures=settings.breaker_failures,
                    reset_s=settings.breaker_reset_s,
                    probe_timeout_s=settings.breaker_probe_timeout_s,
                )
                for name in app.state.clients
            },
            verifier=app.state.verifier,
            access=access,
            limiter=app.state.limiter,
            default_limit=settings.rate_limit_per_minute,
            retry_after_s=settings.retry_after_s,
        )
        if app.state.freeze_gc:
            # What start-up made lives as long as the process: frozen, no collection walks it
            # again (long gen-2 pauses under load otherwise; bench/README.md).
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            app.state.edge = None
            for client in app.state.clients.values():
                await client.aclose()
            await access.stop()
            await app.state.limiter.aclose()
            await audit.close()
            await db.close()

    app = Gateway(
        title="Enlace",
        description=(
            "Enlace, the data-exchange layer for environmental cooperation in Peru. Get a token "
            "with the OAuth2 client-credentials grant at `POST /oauth/token` and send it as "
            "`Authorization: Bearer <token>`. Inventory routes are under `/inventory`, "
            "cooperation routes under `/cooperation`. Errors are RFC 9457 problem documents."
        ),
        version="1.0.0",
        lifespan=lifespan,
        # Served by services.gateway.openapi: one document merged with the services'.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.freeze_gc = False  # set by ``python -m services.gateway``
    app.state.hasher = SecretHasher(settings)
    app.state.clients = {}
    app.state.edge = None
    app.state.audit = None
    app.state.openapi = MergedDocument()
    app.state.health = HealthCache(settings.health_cache_s)
    metrics = app.state.metrics = ProcessMetrics()
    metrics.gauges(lambda: pool_gauges(lambda: getattr(app.state, "db", None)))
    metrics.gauges(lambda: gateway_gauges(app.state.audit, app.state.edge))
    install_problem_handlers(app)
    app.add_exception_handler(HasherBusy, hasher_busy)
    app.include_router(health_router)
    app.include_router(
        own_health_router(
            access_ready,
            "200 once the gateway has read its clients and revoked tokens from its database "
            "(it keeps serving on the last state read while that database is down); 503 "
            "problem before.",
        )
    )
    app.include_router(oauth_router)
    app.include_router(metrics_router(settings.metrics_allow))
    app.include_router(admin_router)
    app.include_router(docs_router)
    app.include_router(landing_router)
    app.include_router(pages_router)
    mount_assets(app)
    mount_page_assets(app)
    # Innermost first. The gateway's own routes build their URLs (links, redirects) on the
    # public origin, never on the caller's Host; forwarded requests carry it to the services.
    layers: list[tuple[Any, dict[str, Any]]] = [
        (PublicOrigin, {"origin": settings.public_origin}),
        (ProxyMiddleware, {"edge": lambda: app.state.edge}),
        (
            EdgeMiddleware,
            {
                "max_body_bytes": settings.max_body_bytes,
                "header_limits": HeaderLimits(
                    lines=settings.max_header_lines,
                    one_bytes=settings.max_header_bytes,
                    total_bytes=settings.max_headers_total_bytes,
                ),
                "audit": lambda: app.state.audit,
                "retry_after_s": settings.retry_after_s,
            },
        ),
        (
            PublicCors,
            {"origins": settings.cors_origins, "paths": public_paths(BACKENDS)},
        ),
        (
            RequestContextMiddleware,
            {"access_log_enabled": settings.access_log, "metrics": metrics},
        ),
        (ForwardedHeaders, {"trusted_proxies": settings.trusted_proxies, "urls": False}),
    ]
    for cls, options in layers:
        app.add_middleware(cls, **options)
    # Forwarded paths: the same layers from ProxyMiddleware out, without FastAPI's own.
    forwarding: ASGIApp = app.full_stack
    for cls, options in layers[1:]:
        forwarding = cls(forwarding, **options)
    app.forwarding = forwarding
    return app
