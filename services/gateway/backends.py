"""The gateway's pooled HTTP clients, one per backend service."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from httpx_aiohttp import AiohttpTransport

from services.gateway.settings import GatewaySettings

BACKENDS = ("inventory", "cooperation")


def backend_urls(settings: GatewaySettings) -> dict[str, str]:
    """Base URL of each backend by its path prefix."""
    return {"inventory": settings.inventory_url, "cooperation": settings.cooperation_url}


def make_clients(
    settings: GatewaySettings,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> dict[str, httpx.AsyncClient]:
    """One long-lived pooled client per backend, with explicit timeouts.

    ``transports`` replaces the network transport (the tests mount the real service apps).
    """
    timeout = httpx.Timeout(
        connect=settings.connect_timeout_s,
        read=settings.read_timeout_s,
        write=settings.write_timeout_s,
        pool=settings.pool_timeout_s,
    )
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_keepalive,
    )
    clients = {}
    for name, url in backend_urls(settings).items():
        transport: httpx.AsyncBaseTransport
        if transports and name in transports:
            transport = transports[name]
        elif settings.transport == "aiohttp":
            transport = AiohttpTransport(limits=limits, trust_env=False)
        else:
            transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
        clients[name] = httpx.AsyncClient(
            base_url=url, transport=transport, timeout=timeout, trust_env=False
        )
    return clients
