"""The gateway's pooled HTTP clients, one per backend service."""

from __future__ import annotations

from collections.abc import Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from services.gateway.settings import GatewaySettings

BACKENDS = ("inventory", "cooperation")
# Response headers holding URLs: one naming the backend's own address is made public.
URL_HEADERS = frozenset({b"location", b"content-location", b"link"})


class BackendClient(httpx.AsyncClient):
    """A pooled client to one backend. ``forward`` hands a caller's request to the transport
    alone: no cookie jar, no redirects, no auth. httpx's cookie extraction copies the request
    headers once per header (quadratic: 100k header lines froze the gateway), and a shared jar
    would send one caller's cookies with the next caller's requests."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport,
        base_url: str,
        public_url: str,
        session: aiohttp.ClientSession | None = None,
        **kwargs: Any,
    ) -> None:
        # Nor do the gateway's own calls (health, OpenAPI) keep cookies: the jar refuses all.
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        super().__init__(transport=transport, cookies=jar, base_url=base_url, **kwargs)
        self.backend_transport = transport
        # The aiohttp session under ``transport``, if any: the proxy sends through it directly.
        self.session = session
        # Where callers reach this backend (origin and prefix), and the forwarding headers
        # that tell the service so (made once here, sent with every forwarded request).
        self.public_url = public_url
        scheme, _, host = public_url.partition("://")
        host, _, prefix = host.partition("/")
        self.forwarding = [
            (b"x-forwarded-prefix", b"/" + prefix.encode()),
            (b"x-forwarded-host", host.encode()),
            (b"x-forwarded-proto", scheme.encode()),
        ]
        self._internal = base_url.rstrip("/").encode() + b"/"
        self._public = public_url.encode() + b"/"

    def publish(self, name: bytes, value: bytes) -> bytes:
        """A response header's value with URLs at the backend's own address made public
        (defence in depth: a service that trusts the gateway builds public URLs itself)."""
        if name in URL_HEADERS and self._internal in value:
            return value.replace(self._internal, self._public)
        return value

    async def forward(self, request: httpx.Request) -> httpx.Response:
        """The backend's answer to ``request``, its body still to be streamed."""
        response = await self.backend_transport.handle_async_request(request)
        response.request = request
        return response


def session(max_connections: int, keepalive_s: float | None) -> aiohttp.ClientSession:
    """The pooled aiohttp session of one backend: no cookie jar (a shared jar would hand one
    caller's cookies to the next), no proxies from the environment, nothing decompressed, and
    only what the caller sent (plus Host): no User-Agent or Accept-Encoding of its own."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections, keepalive_timeout=keepalive_s),
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )


def backend_urls(settings: GatewaySettings) -> dict[str, str]:
    """Base URL of each backend by its path prefix."""
    return {"inventory": settings.inventory_url, "cooperation": settings.cooperation_url}


def make_clients(
    settings: GatewaySettings,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> dict[str, BackendClient]:
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
        pooled = None
        if transports and name in transports:
            transport = transports[name]
        elif settings.transport == "aiohttp":
            pooled = session(settings.max_connections, limits.keepalive_expiry)
            transport = AiohttpTransport(client=pooled)
        else:
            transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
        clients[name] = BackendClient(
            base_url=url,
            public_url=f"{settings.public_origin}/{name}",
            transport=transport,
            session=pooled,
            timeout=timeout,
            trust_env=False,
        )
    return clients
