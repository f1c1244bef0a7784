"""Sending a forwarded request to a backend: the proxy's hot path, behind one small interface.

``AiohttpUpstream`` drives aiohttp's client directly (``GATEWAY_TRANSPORT=aiohttp``, the
default): the raw headers go out as they are and come back as bytes, with no httpx
``Request``/``Response`` built around them (that wrapping, URL merging and header
rebuilding cost more CPU per request than the rest of the gateway; bench/README.md).
``HttpxUpstream`` sends through a :class:`BackendClient`'s httpx transport (the tests' ASGI
transports, and ``GATEWAY_TRANSPORT=httpx``). Both report failures the same way:
``Unreachable`` (no connection: an idempotent request may be retried), ``TimedOut`` and
``Failed``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

import aiohttp
import httpx
from yarl import URL

from services.gateway.backends import BackendClient

Headers = list[tuple[bytes, bytes]]
CHUNK = 64 * 1024


class UpstreamError(Exception):
    """The backend gave no usable answer."""


class Unreachable(UpstreamError):
    """No connection to the backend (refused, reset before an answer, pool exhausted)."""


class TimedOut(UpstreamError):
    """The backend did not answer within the read timeout."""


class Failed(UpstreamError):
    """Anything else: an invalid answer, a broken stream."""


class Response(Protocol):
    """A backend's answer whose body is still to be read."""

    status: int
    headers: Headers  # as received: original case, repeated headers kept

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, raw (not decoded); ``Failed`` when the stream breaks."""
        ...

    async def aclose(self) -> None:
        """Give the connection back (or drop it if the body was not read to the end)."""
        ...


class Upstream(Protocol):
    """One backend, as the proxy sends to it."""

    async def send(
        self,
        method: str,
        target: str,
        headers: Headers,
        body: AsyncIterator[bytes] | None,
        *,
        probe_timeout_s: float | None = None,
    ) -> Response:
        """``target`` (path and query, already encoded) with ``headers``; raises an
        ``UpstreamError``. ``probe_timeout_s`` replaces every timeout (a breaker probe)."""
        ...

    async def aclose(self) -> None:
        """Close the connections."""
        ...


# -- aiohttp, directly -----------------------------------------------------------------------


class _AiohttpResponse:
    __slots__ = ("_response", "headers", "status")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers: Headers = list(response.raw_headers)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(CHUNK):
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Failed(type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpUpstream:
    """A backend reached through aiohttp's client (pooled keep-alive connections)."""

    def __init__(self, client: aiohttp.ClientSession, base_url: str, timeout: httpx.Timeout):
        self._client = client
        self._base = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout.pool, sock_connect=timeout.connect, sock_read=timeout.read
        )

    async def send(
        self,
        method: str,
        target: str,
        headers: Headers,
        body: AsyncIterator[bytes] | None,
        *,
        probe_timeout_s: float | None = None,
    ) -> Response:
        timeout = self._timeout
        if probe_timeout_s is not None:
            timeout = aiohttp.ClientTimeout(
                total=None,
                connect=probe_timeout_s,
                sock_connect=probe_timeout_s,
                sock_read=probe_timeout_s,
            )
        try:
            response = await self._client.request(
                method,
                # encoded=True: the path goes out exactly as checked (nothing re-quoted).
                URL(self._base + target, encoded=True),
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
                data=body,
                allow_redirects=False,
                compress=None,
                timeout=timeout,
            )
        except aiohttp.ServerTimeoutError as exc:
            if isinstance(exc, aiohttp.ConnectionTimeoutError):
                raise Unreachable(type(exc).__name__) from exc
            raise TimedOut(type(exc).__name__) from exc
        except TimeoutError as exc:
            raise TimedOut(type(exc).__name__) from exc
        except aiohttp.ClientConnectionError as exc:
            raise Unreachable(type(exc).__name__) from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise Failed(type(exc).__name__) from exc
        return _AiohttpResponse(response)

    async def aclose(self) -> None:
        await self._client.close()


# -- any httpx transport ---------------------------------------------------------------------


class _HttpxResponse:
    __slots__ = ("_response", "headers", "status")

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers: Headers = list(response.headers.raw)

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.HTTPError as exc:
            raise Failed(type(exc).__name__) from exc

    async def aclose(self) -> None:
        await self._response.aclose()


class HttpxUpstream:
    """A backend reached through the transport of an httpx client."""

    def __init__(self, client: BackendClient) -> None:
        self._client = client

    async def send(
        self,
        method: str,
        target: str,
        headers: Headers,
        body: AsyncIterator[bytes] | None,
        *,
        probe_timeout_s: float | None = None,
    ) -> Response:
        timeout: Any = httpx.USE_CLIENT_DEFAULT if probe_timeout_s is None else probe_timeout_s
        request = self._client.build_request(
            method, target, headers=headers, content=body, timeout=timeout
        )
        try:
            response = await self._client.forward(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise Unreachable(type(exc).__name__) from exc
        except httpx.TimeoutException as exc:
            raise TimedOut(type(exc).__name__) from exc
        except Exception as exc:
            raise Failed(type(exc).__name__) from exc
        return _HttpxResponse(response)

    async def aclose(self) -> None:
        """The client is closed with the others (app.state.clients)."""


def make_upstreams(clients: Mapping[str, BackendClient]) -> dict[str, Upstream]:
    """The proxy's way to each backend: aiohttp directly where the client has an aiohttp
    session, else the client's httpx transport."""
    return {
        name: AiohttpUpstream(client.session, str(client.base_url), client.timeout)
        if client.session is not None
        else HttpxUpstream(client)
        for name, client in clients.items()
    }
