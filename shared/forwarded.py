"""Whose word a request's URL is built from: every URL an app sends (``Link``, ``Location``,
redirects, problem ``instance``) comes from the request's scope, so the scope must name the
public address, never one a caller chose.

- ``ForwardedHeaders`` (all three apps, outermost): forwarding headers are believed only
  from ``trusted_proxies`` (none by default). From a trusted proxy, ``X-Forwarded-For`` and
  ``X-Forwarded-Proto`` set the client and scheme (uvicorn's own middleware), and for a
  service ``X-Forwarded-Prefix`` becomes the ASGI ``root_path`` and ``X-Forwarded-Host`` the
  host. The gateway sets those on every request it forwards.
- ``PublicOrigin`` (the gateway's own routes): scheme and host are the configured public
  URL's, whatever ``Host`` the caller sent.

The apps do this themselves rather than leaving it to uvicorn (``uvicorn_options`` turns its
handling off): uvicorn replaces the client address before the app runs, after which nobody
could tell whether the peer that sent ``X-Forwarded-Prefix`` was the trusted proxy.
"""

from __future__ import annotations

import re
from typing import Any, cast
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from shared.middleware import HTTPMiddleware

# One proxy's prefix: plain path segments, no "." or "..", no trailing slash.
_PREFIX = re.compile(r"^(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+$")
# A host name or IPv4 address, or a bracketed IPv6 address, with an optional port.
_HOST = re.compile(r"^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")
MAX_PREFIX = 256


def parse_origin(url: str) -> tuple[str, str]:
    """(scheme, host) of an origin URL such as ``https://api.example.org``; ValueError for
    anything else (a path, a query, credentials, another scheme)."""
    parts = urlsplit(url.strip())
    host = parts.netloc
    if (
        parts.scheme not in ("http", "https")
        or not _HOST.match(host)
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"{url!r} is not an origin such as https://api.example.org")
    return parts.scheme, host


def set_host(scope: Scope, host: bytes) -> None:
    """Make ``host`` the request's one ``Host`` header."""
    scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"] + [(b"host", host)]


def _single(scope: Scope, name: bytes) -> str | None:
    """The value of header ``name`` if it occurs once, else None."""
    values = [v for k, v in scope["headers"] if k == name]
    return values[0].decode("latin-1").strip() if len(values) == 1 else None


def apply_forwarded_url(scope: Scope) -> None:
    """Take a trusted proxy's ``X-Forwarded-Prefix`` (as ``root_path``, ``path`` keeps it in
    front, as ASGI says) and ``X-Forwarded-Host``. A value that is repeated or not plain is
    ignored, not half-believed."""
    prefix = _single(scope, b"x-forwarded-prefix")
    if prefix and len(prefix) <= MAX_PREFIX and _PREFIX.match(prefix):
        root = prefix + scope.get("root_path", "")
        scope["path"] = prefix + scope["path"]
        if scope.get("raw_path") is not None:
            scope["raw_path"] = prefix.encode() + scope["raw_path"]
        scope["root_path"] = root
    host = _single(scope, b"x-forwarded-host")
    if host and _HOST.match(host):
        set_host(scope, host.encode())


class ForwardedHeaders(HTTPMiddleware):
    """Forwarding headers believed only from ``trusted_proxies`` (comma-separated IPs or
    networks, ``*`` for any; empty: from nobody). ``urls``: also prefix and host (services);
    the gateway takes its own from its configured public URL instead."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: str, urls: bool = True) -> None:
        super().__init__(app)
        self.urls = urls
        trusted = trusted_proxies.strip()
        # uvicorn's middleware takes X-Forwarded-For and -Proto; its list parsing is reused.
        proxy = ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=trusted)
        self.trusted = proxy.trusted_hosts
        self.proxy: ASGIApp | None = cast(ASGIApp, proxy) if trusted else None

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.proxy is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        # Before uvicorn's middleware replaces the client with the forwarded one.
        if self.urls and client and client[0] in self.trusted:
            apply_forwarded_url(scope)
        await self.proxy(scope, receive, send)


class PublicOrigin(HTTPMiddleware):
    """Every request seen as addressed to ``origin`` (scheme and host): URLs the app builds
    are public ones, never the caller's ``Host``."""

    def __init__(self, app: ASGIApp, *, origin: str) -> None:
        super().__init__(app)
        scheme, host = parse_origin(origin)
        self.scheme, self.host = scheme, host.encode()

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["scheme"] = self.scheme
        set_host(scope, self.host)
        await self.app(scope, receive, send)
