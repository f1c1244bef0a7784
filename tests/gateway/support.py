"""Helpers for the hostile-case tests (SECURITY.md): tokens forged by hand, transports that
record what a backend received, raw ASGI requests, and small TCP servers that misbehave."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from fastapi import FastAPI
from starlette.types import Message

from services.cooperation.app import create_app as create_cooperation
from services.cooperation.settings import CooperationSettings
from services.gateway.app import create_app as create_gateway
from services.gateway.audit_chain import AuditRecord
from services.gateway.keys import KeyStore
from services.gateway.settings import GatewaySettings
from services.inventory.app import create_app as create_inventory
from services.inventory.settings import InventorySettings
from shared.tokens import SigningKey

# Re-exported for the gateway tests; defined once in tests/support.py.
from tests.support import (  # noqa: F401
    PROBLEM,
    PROBLEMS,
    asgi_transport,
    assert_problem,
    closed_port,
)

ISSUER: str = GatewaySettings.model_fields["token_issuer"].default
AUDIENCE: str = GatewaySettings.model_fields["token_audience"].default

# -- tokens by hand ---------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(value: Any) -> str:
    """A JWS header or payload segment."""
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def segment(token: str, index: int) -> dict[str, Any]:
    """Header (0) or payload (1) of ``token``, decoded without any check."""
    part = token.split(".")[index]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return value


def claims(
    client_id: str = "forger",
    *,
    org: str = "MINAM",
    scope: str = "inventory:read",
    now: int | None = None,
    lifetime_s: int = 300,
    drop: tuple[str, ...] = (),
    **changes: Any,
) -> dict[str, Any]:
    """Plausible access-token claims; ``changes`` override, ``drop`` removes."""
    issued = int(time.time()) if now is None else now
    values: dict[str, Any] = {
        "iss": ISSUER,
        "sub": client_id,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + lifetime_s,
        "jti": secrets.token_urlsafe(16),
        "client_id": client_id,
        "org": org,
        "scope": scope,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if k not in drop}


def header(kid: str, alg: str = "RS256", **changes: Any) -> dict[str, Any]:
    """A JOSE header like the gateway's; ``changes`` override or add members."""
    return {"alg": alg, "typ": "at+jwt", "kid": kid, **changes}


def sign(head: Mapping[str, Any], payload: Mapping[str, Any], private_pem: bytes) -> str:
    """A compact JWS signed with ``private_pem`` (RS256 for RSA, ES256 for P-256), whatever
    ``head`` claims."""
    signing_input = f"{b64json(head)}.{b64json(payload)}".encode()
    key = serialization.load_pem_private_key(private_pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = utils.decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:  # pragma: no cover - the tests use RSA and P-256 only
        raise TypeError("unsupported key")
    return f"{signing_input.decode()}.{b64url(signature)}"


def sign_hmac(
    head: Mapping[str, Any], payload: Mapping[str, Any], secret: bytes, digest: str = "sha256"
) -> str:
    """A compact JWS with an HMAC signature keyed by ``secret``."""
    signing_input = f"{b64json(head)}.{b64json(payload)}".encode()
    mac = hmac.new(secret, signing_input, getattr(hashlib, digest)).digest()
    return f"{signing_input.decode()}.{b64url(mac)}"


def unsigned(head: Mapping[str, Any], payload: Mapping[str, Any], signature: str = "") -> str:
    """A compact JWS with whatever signature segment is given (empty by default)."""
    return f"{b64json(head)}.{b64json(payload)}.{signature}"


def gateway_key(keys_dir: Path) -> SigningKey:
    """The key the gateway signs with (private material, for signing forged headers)."""
    return KeyStore(keys_dir).active()


def foreign_private_pem() -> bytes:
    """A private RSA key that is not the gateway's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def bearer(token: str) -> dict[str, str]:
    """An Authorization header carrying ``token``."""
    return {"Authorization": f"Bearer {token}"}


def challenge_error(response: httpx.Response) -> str | None:
    """The RFC 6750 ``error`` code in the response's WWW-Authenticate, if any."""
    value = response.headers.get("www-authenticate", "")
    assert value.startswith("Bearer "), value
    match = re.search(r'error="([^"]+)"', value)
    return match.group(1) if match else None


# -- what a backend receives -------------------------------------------------------------------


@dataclass
class Seen:
    """One request as it reached a backend."""

    method: str
    raw_path: bytes
    headers: httpx.Headers


class Recorder(httpx.AsyncBaseTransport):
    """Hands requests to ``inner`` (replaceable) and remembers each attempt.

    The request body is read in full first, as a network transport sends it whether or not
    the backend reads it.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[Seen] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(Seen(request.method, request.url.raw_path, request.headers.copy()))
        await request.aread()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@asynccontextmanager
async def service_apps(
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
    keys_dir: Path,
) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    """The real inventory and cooperation apps, trusting the keys in ``keys_dir``."""
    inventory = create_inventory(inventory_settings, key_source=KeyStore(keys_dir))
    cooperation = create_cooperation(cooperation_settings, key_source=KeyStore(keys_dir))
    async with (
        inventory.router.lifespan_context(inventory),
        cooperation.router.lifespan_context(cooperation),
    ):
        yield inventory, cooperation


@asynccontextmanager
async def running_gateway(
    settings: GatewaySettings,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    *,
    client_ip: str = "127.0.0.1",
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A gateway app (lifespan running) and an httpx client calling it from ``client_ip``."""
    app = create_gateway(settings, transports=transports)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(client_ip, 4711))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://gateway") as client,
    ):
        yield app, client


def client_from(app: FastAPI, ip: str) -> httpx.AsyncClient:
    """Another httpx client to ``app``, seen as coming from ``ip``."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 4711))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway")


# -- raw ASGI requests (paths no HTTP client would send as they are) ---------------------------


@dataclass
class RawResponse:
    """What an ASGI app answered."""

    status: int
    headers: dict[str, str]
    body: bytes
    complete: bool

    def json(self) -> Any:
        return json.loads(self.body)


async def raw_request(
    app: FastAPI,
    raw_target: bytes,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    on_start: Callable[[Message], Awaitable[None]] | None = None,
) -> RawResponse:
    """Send ``raw_target`` (path and query, exactly as on the request line) to ``app``, with
    the scope a server such as uvicorn builds (``path`` percent-decoded, ``raw_path`` not).
    ``on_start`` is awaited when the response starts, before the app may go on."""
    raw_path, _, query = raw_target.partition(b"?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"gateway")]
        + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 4711),
        "server": ("gateway", 80),
    }
    sent_body = False
    messages: list[Message] = []

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects first
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        messages.append(message)
        if on_start is not None and message["type"] == "http.response.start":
            await on_start(message)

    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    return RawResponse(
        status=start["status"],
        headers={k.decode(): v.decode() for k, v in start["headers"]},
        body=b"".join(m.get("body", b"") for m in bodies),
        complete=bool(bodies) and not bodies[-1].get("more_body", False),
    )


# -- misbehaving TCP servers -------------------------------------------------------------------


class TcpServer:
    """A local TCP server that counts connections, keeps what each sent first, and answers
    each with ``reply`` then closes (``reply=None``: never answers, keeps the connection)."""

    def __init__(self, reply: bytes | None = None) -> None:
        self.reply = reply
        self.connections = 0
        self.received: list[bytes] = []
        self._held: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.reply is None:
            self._held.append(writer)
            return
        with contextlib.suppress(ConnectionError):
            self.received.append(await reader.read(65536))
            writer.write(self.reply)
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def __aenter__(self) -> TcpServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._held:
            writer.close()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@asynccontextmanager
async def full_stack(
    keys_dir: Path,
    gateway_settings: GatewaySettings,
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, FastAPI]]:
    """Gateway and services on their own signing-key directory: the gateway app, a client
    to it, and the inventory app (for calling it directly)."""
    async with service_apps(inventory_settings, cooperation_settings, keys_dir) as (inv, coop):
        transports = {"inventory": asgi_transport(inv), "cooperation": asgi_transport(coop)}
        settings = gateway_settings.model_copy(update={"keys_dir": str(keys_dir)})
        async with running_gateway(settings, transports) as (app, client):
            yield app, client, inv


class TcpRelay:
    """Forwards connections on a local port to ``host:port`` (a database): ``stop()`` refuses
    new connections and cuts the open ones, as a database outage does; ``start()`` again
    ends it. The port stays the same across restarts."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = closed_port()
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._open.update((writer, up_writer))
        for task in (
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ):
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in self._open:
            writer.transport.abort()
        self._open.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()


# -- audit records -----------------------------------------------------------------------------

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def rec(i: int, **changes: object) -> AuditRecord:
    """A plausible audit record, the ``i``-th of a test."""
    values: dict[str, object] = {
        "at": T0 + timedelta(seconds=i, microseconds=i),
        "client_id": f"client-{i % 3}",
        "org": ("MINAM", "GIZ")[i % 2],
        "method": ("GET", "POST")[i % 2],
        "path": f"/inventory/v1/pcb/{i}",
        "status": (200, 201, 401, 429)[i % 4],
        "request_id": f"req-{i}",
        "duration_ms": 1.0 / (i + 3),
        "ip": "192.0.2.1",
        "body_sha256": None if i % 2 == 0 else "ab" * 32,
        "outcome": None,
    }
    values.update(changes)
    return AuditRecord(**values)  # type: ignore[arg-type]
