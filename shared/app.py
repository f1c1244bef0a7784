"""Assembly common to the inventory and cooperation services."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import math
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request

from shared.db import Database
from shared.forwarded import ForwardedHeaders
from shared.health import database_ready, health_router, not_ready
from shared.logging import configure_logging
from shared.metrics import ProcessMetrics, metrics_router, pool_gauges
from shared.middleware import BodyLimitMiddleware, RequestContextMiddleware
from shared.openapi_contract import apply_contract
from shared.problems import Problem, install_problem_handlers
from shared.query_check import UNKNOWN_PARAMETER_RESPONSE, known_query_params
from shared.revocations import RevocationList
from shared.server import bounded_head_protocol
from shared.settings import ResourceServiceSettings, ServiceSettings
from shared.tokens import JwksClient, KeySource, StaticKeys, TokenVerifier, VerifiedToken


def build_service_app(
    *,
    title: str,
    description: str,
    version: str,
    settings: ResourceServiceSettings,
    routers: Sequence[APIRouter],
    key_source: KeySource | None = None,
    revocations: RevocationList | None = None,
    background: Sequence[Callable[[FastAPI], Coroutine[Any, Any, None]]] = (),
) -> FastAPI:
    """A FastAPI app with the database lifespan, token verification and revocation, health,
    problems and request context. ``key_source`` and ``revocations`` replace the configured
    public keys and revocation list (tests). Each of ``background`` runs as a task while the
    app is up (cancelled at shutdown), once the database is open."""

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
        revoked = revocations or revocations_from_settings(settings)
        app.state.revocations = revoked
        if revoked is not None:
            revoked.start()
            app.state.revocation_check = revocation_check(revoked)
        if getattr(app.state, "freeze_gc", False):
            # What start-up made lives as long as the process: frozen, so no collection
            # walks it again (long gen-2 pauses under load otherwise; bench/README.md).
            gc.collect()
            gc.freeze()
        tasks = [asyncio.create_task(job(app)) for job in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if revoked is not None:
                await revoked.aclose()
            if isinstance(closer, JwksClient):
                await closer.aclose()
            await app.state.db.close()

    # The document's servers are not taken from a request's (forwarded) root_path: the
    # gateway publishes the merged document with the public paths.
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        root_path_in_servers=False,
        # Every route: a query parameter it does not declare is a 400, not ignored.
        dependencies=[Depends(known_query_params)],
    )
    app.state.settings = settings
    metrics = app.state.metrics = ProcessMetrics()
    metrics.gauges(lambda: pool_gauges(lambda: getattr(app.state, "db", None)))
    generate = app.openapi
    app.openapi = lambda: apply_contract(generate())  # type: ignore[method-assign]
    install_problem_handlers(app)
    app.include_router(
        health_router(
            service_ready,
            "200 when the database answers and the gateway's list of revoked tokens has been "
            "fetched (until then every token is refused with a 503); 503 problem otherwise.",
        ),
        responses=UNKNOWN_PARAMETER_RESPONSE,
    )
    app.include_router(metrics_router(settings.metrics_allow))
    for router in routers:
        app.include_router(router, responses=UNKNOWN_PARAMETER_RESPONSE)
    # Reached directly (not only through the gateway), a service still refuses large bodies.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        RequestContextMiddleware, access_log_enabled=settings.access_log, metrics=metrics
    )
    # Outermost: from a trusted proxy (the gateway) the request's URL is the public one, so
    # every URL the service builds is (links, Location, redirects, problem instance).
    app.add_middleware(ForwardedHeaders, trusted_proxies=settings.trusted_proxies)
    return app


async def service_ready(request: Request) -> dict[str, str]:
    """Ready when the database answers and, where a revocation list is configured, it has
    been fetched once: before that the service refuses every token, so a load balancer (or
    the gateway's ``/health``) must not send it traffic yet."""
    components = await database_ready(request)
    revocations: RevocationList | None = getattr(request.app.state, "revocations", None)
    if revocations is not None:
        if not revocations.ready:
            raise not_ready(request, "The gateway's list of revoked tokens is not fetched yet.")
        components["revocations"] = "ok"
    return components


def keys_from_settings(settings: ResourceServiceSettings) -> KeySource:
    """Public keys from configured JSON, else from the gateway's JWKS URL."""
    if settings.jwks_json:
        return StaticKeys(json.loads(settings.jwks_json))
    if settings.jwks_url:
        return JwksClient(settings.jwks_url, cooldown_s=settings.jwks_cooldown_s)
    raise RuntimeError("set <SERVICE>_JWKS_URL (the gateway's JWKS) or <SERVICE>_JWKS_JSON")


def revocations_from_settings(settings: ResourceServiceSettings) -> RevocationList | None:
    """The gateway's revocation list, when a URL for it is configured (or implied)."""
    url = settings.revocation_list_url
    return RevocationList(url, refresh_s=settings.revocation_refresh_s) if url else None


def revocation_check(revocations: RevocationList) -> Callable[[VerifiedToken], bool]:
    """The check ``shared.security`` applies to every verified token: False when the list
    revokes it; a 503 while no list was ever fetched (fail closed)."""
    retry_after = {"Retry-After": str(math.ceil(revocations.refresh_s))}

    def allows(token: VerifiedToken) -> bool:
        if not revocations.ready:
            raise Problem(
                503,
                "revocations-unavailable",
                "The list of revoked tokens could not be fetched from the gateway yet.",
                headers=retry_after,
            )
        return not revocations.refuses(token)

    return allows


def uvicorn_options(settings: ServiceSettings) -> dict[str, Any]:
    """How uvicorn runs a process: its address, fast loop and parser (with a bound on request
    heads), our own logs. Forwarding headers are left to the app (``shared.forwarded``), which
    believes them only from ``trusted_proxies``."""
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": bounded_head_protocol(settings.max_request_head_bytes),
        # The same bound if the pure-Python parser is chosen instead (it answers 400).
        "h11_max_incomplete_event_size": settings.max_request_head_bytes,
        "access_log": False,
        "log_config": None,
        "server_header": False,
        "proxy_headers": False,
    }


def serve(app: FastAPI, settings: ServiceSettings, service: str) -> None:
    """Run ``app`` under uvicorn (uvloop + httptools) with JSON logs."""
    configure_logging(service, settings.log_level, settings.log_format)
    app.state.freeze_gc = True  # once the lifespan's start-up has run (see build_service_app)
    logging.getLogger("enlace").info("starting", extra={"port": settings.port})
    uvicorn.run(app, **uvicorn_options(settings))
