"""The token module (``shared.tokens``) against the real gateway: the JWKS client the services
use, the verified-token cache, and ``/oauth/token`` with the tokens it issues (RFC 6749 4.4,
RFC 9068)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import shared.tokens as tokens_module
from services.gateway import keys as keys_module
from services.gateway.keys import KeyStore
from services.gateway.settings import GatewaySettings
from shared.tokens import JwksClient, PublicKey, TokenError, TokenVerifier
from tests.conftest import TEST_SECRET, Tokens
from tests.gateway.support import AUDIENCE, ISSUER, b64json, running_gateway, segment

JWKS_URL = "http://gateway/.well-known/jwks.json"


class Clock:
    """Stands in for the ``time`` module inside ``shared.tokens``: real time plus an offset."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def time(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(tokens_module, "time", fake)
    return fake


class Switch(httpx.AsyncBaseTransport):
    """Passes requests to ``inner`` until ``failure`` is set; then fails that way."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.failure: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.failure == "connect":
            raise httpx.ConnectError("refused", request=request)
        if self.failure == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        bodies: dict[str, tuple[int, bytes]] = {
            "503": (503, b'{"keys": []}'),
            "html": (200, b"<html>maintenance</html>"),
            "list": (200, b"[]"),
            "keys-not-a-list": (200, b'{"keys": "none"}'),
            "no-keys": (200, b"{}"),
            "garbage-entries": (200, b'{"keys": [1, "x", null, {"kty": "RSA", "alg": ["RS256"]}]}'),
        }
        if self.failure in bodies:
            status, body = bodies[self.failure]
            return httpx.Response(status, content=body, request=request)
        return await self.inner.handle_async_request(request)


def jwks_client(app: FastAPI, cooldown_s: float = 30.0) -> tuple[JwksClient, Switch]:
    switch = Switch(httpx.ASGITransport(app=app))
    return JwksClient(JWKS_URL, cooldown_s=cooldown_s, transport=switch), switch


@pytest.fixture
async def jwks(gateway_app: FastAPI) -> AsyncIterator[tuple[JwksClient, Switch]]:
    client, switch = jwks_client(gateway_app)
    yield client, switch
    await client.aclose()


def active_kid(keys_dir: Path) -> str:
    return KeyStore(keys_dir).active().kid


# -- JwksClient ---------------------------------------------------------------------------------


async def test_jwks_client_fetches_the_gateway_keys_once_and_caches_them(
    jwks: tuple[JwksClient, Switch], keys_dir: Path
) -> None:
    client, _ = jwks
    kid = active_kid(keys_dir)
    first = await client.get(kid)
    assert first is not None
    assert (first.kid, first.alg) == (kid, "RS256")
    for _ in range(5):
        assert await client.get(kid) is first
    assert client.fetches == 1


async def test_jwks_client_refreshes_on_unknown_kid_at_most_once_per_cooldown(
    jwks: tuple[JwksClient, Switch], keys_dir: Path, clock: Clock
) -> None:
    client, _ = jwks
    assert await client.get(active_kid(keys_dir)) is not None
    assert client.fetches == 1
    # Within the cooldown, made-up kids cause no request at all.
    for i in range(20):
        assert await client.get(f"unknown-{i}") is None
    assert client.fetches == 1
    clock.offset += client.cooldown_s
    assert await client.get("unknown-a") is None
    assert client.fetches == 2
    assert await client.get("unknown-b") is None
    assert client.fetches == 2


async def test_jwks_client_concurrent_unknown_kids_cause_one_fetch(
    jwks: tuple[JwksClient, Switch],
) -> None:
    client, _ = jwks
    results = await asyncio.gather(*(client.get(f"unknown-{i}") for i in range(50)))
    assert results == [None] * 50
    assert client.fetches == 1


async def test_jwks_client_finds_a_rotated_key_after_the_cooldown(
    tmp_path: Path, gateway_settings: GatewaySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys_module, "RELOAD_EVERY_S", 0.0)
    keys = tmp_path / "keys"
    KeyStore(keys).ensure()
    settings = gateway_settings.model_copy(update={"keys_dir": str(keys)})
    async with running_gateway(settings) as (app, _):
        client, _ = jwks_client(app, cooldown_s=0.05)
        try:
            old = active_kid(keys)
            assert await client.get(old) is not None
            new = KeyStore(keys).rotate()
            await asyncio.sleep(0.06)
            assert await client.get(new) is not None
            assert await client.get(old) is not None  # the previous key still verifies
            assert client.fetches == 2
        finally:
            await client.aclose()


@pytest.mark.parametrize(
    "failure",
    ["connect", "timeout", "503", "html", "list", "keys-not-a-list", "no-keys", "garbage-entries"],
)
async def test_jwks_client_keeps_its_keys_when_a_refresh_fails(
    jwks: tuple[JwksClient, Switch], keys_dir: Path, clock: Clock, failure: str
) -> None:
    client, switch = jwks
    kid = active_kid(keys_dir)
    known = await client.get(kid)
    assert known is not None
    switch.failure = failure
    clock.offset += client.cooldown_s
    assert await client.get("unknown") is None  # triggers a refresh, which fails quietly
    assert client.fetches == 2
    assert await client.get(kid) is known
    # And once the gateway answers again, the next refresh works.
    switch.failure = None
    clock.offset += client.cooldown_s
    assert await client.get("still-unknown") is None
    assert await client.get(kid) is not None
    assert client.fetches == 3


async def test_verifier_over_jwks_client_accepts_gateway_tokens(
    jwks: tuple[JwksClient, Switch], tokens: Tokens
) -> None:
    client, _ = jwks
    verifier = TokenVerifier(client, issuer=ISSUER, audience=AUDIENCE)
    token = await tokens.get("partner-test", "GIZ", "cooperation:read")
    verified = await verifier.verify(token)
    assert (verified.client_id, verified.org) == ("partner-test", "GIZ")
    assert verified.scopes == frozenset({"cooperation:read"})


# -- the verified-token cache -------------------------------------------------------------------


class CountingKeys:
    """A key source that counts how often a verifier needed a key."""

    def __init__(self, keys_dir: Path) -> None:
        self.store = KeyStore(keys_dir)
        self.calls = 0

    async def get(self, kid: str) -> PublicKey | None:
        self.calls += 1
        return await self.store.get(kid)


async def test_cache_hit_avoids_verifying_again(tokens: Tokens, keys_dir: Path) -> None:
    keys = CountingKeys(keys_dir)
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE)
    token = await tokens.get("reader-test", "MINAM", "inventory:read")
    first = await verifier.verify(token)
    for _ in range(10):
        assert await verifier.verify(token) == first
    assert keys.calls == 1
    # A different token (here: the same with its payload changed) is never a cache hit.
    head, _, signature = token.split(".")
    forged = f"{head}.{b64json(segment(token, 1) | {'org': 'X'})}.{signature}"
    with pytest.raises(TokenError):
        await verifier.verify(forged)
    assert keys.calls == 2


async def test_cached_token_is_verified_again_once_it_expires(
    tokens: Tokens, keys_dir: Path, clock: Clock
) -> None:
    """The cache never outlives the token: past ``exp`` + leeway (by the module's clock) the
    token goes through full verification again instead of being served from memory."""
    keys = CountingKeys(keys_dir)
    verifier = TokenVerifier(keys, issuer=ISSUER, audience=AUDIENCE, leeway_s=30)
    token = await tokens.get("reader-test", "MINAM", "inventory:read")
    verified = await verifier.verify(token)
    await verifier.verify(token)
    assert keys.calls == 1
    clock.offset = verified.exp + 31 - time.time()
    await verifier.verify(token)
    assert keys.calls == 2


# -- /oauth/token ---------------------------------------------------------------------------------

GRANT = {"grant_type": "client_credentials"}


@pytest.fixture
async def reader(tokens: Tokens) -> str:
    await tokens.register("reader-test", "MINAM", "inventory:read cooperation:read")
    return "reader-test"


def assert_no_store(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def test_token_with_http_basic(
    gateway: httpx.AsyncClient, reader: str, gateway_settings: GatewaySettings
) -> None:
    response = await gateway.post(
        "/oauth/token", data=GRANT | {"scope": "inventory:read"}, auth=(reader, TEST_SECRET)
    )
    assert response.status_code == 200
    assert_no_store(response)
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == gateway_settings.token_lifetime_s
    assert body["scope"] == "inventory:read"
    assert "refresh_token" not in body


async def test_token_with_form_credentials(gateway: httpx.AsyncClient, reader: str) -> None:
    response = await gateway.post(
        "/oauth/token", data=GRANT | {"client_id": reader, "client_secret": TEST_SECRET}
    )
    assert response.status_code == 200
    assert_no_store(response)
    # Without a scope the token carries every scope the client was granted.
    assert response.json()["scope"] == "cooperation:read inventory:read"


async def test_token_with_credentials_sent_twice_is_invalid_request(
    gateway: httpx.AsyncClient, reader: str
) -> None:
    response = await gateway.post(
        "/oauth/token",
        data=GRANT | {"client_id": reader, "client_secret": TEST_SECRET},
        auth=(reader, TEST_SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_token_without_grant_type_is_invalid_request(
    gateway: httpx.AsyncClient, reader: str
) -> None:
    """RFC 6749 5.2: a missing required parameter is ``invalid_request``."""
    response = await gateway.post("/oauth/token", data={}, auth=(reader, TEST_SECRET))
    assert response.status_code == 400
    assert_no_store(response)
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "grant", ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS", "implicit"]
)
async def test_token_with_another_grant_is_unsupported_grant_type(
    gateway: httpx.AsyncClient, reader: str, grant: str
) -> None:
    response = await gateway.post(
        "/oauth/token", data={"grant_type": grant}, auth=(reader, TEST_SECRET)
    )
    assert response.status_code == 400
    assert_no_store(response)
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("client_id", "secret"),
    [("reader-test", "wrong-secret"), ("nobody-test", TEST_SECRET), ("reader-test", "")],
    ids=["wrong-secret", "unknown-client", "empty-secret"],
)
@pytest.mark.usefixtures("reader")  # registers reader-test, whose secret is then wrong
async def test_token_with_wrong_credentials_is_401_invalid_client(
    gateway: httpx.AsyncClient, client_id: str, secret: str
) -> None:
    basic = await gateway.post("/oauth/token", data=GRANT, auth=(client_id, secret))
    assert basic.status_code == 401
    assert_no_store(basic)
    assert basic.json()["error"] == "invalid_client"
    assert basic.headers["www-authenticate"].startswith("Basic")
    # A page's script (Swagger UI) gets no challenge: the browser's own login prompt would
    # hide the error from it.
    scripted = await gateway.post(
        "/oauth/token",
        data=GRANT,
        auth=(client_id, secret),
        headers={"X-Requested-With": "XMLHttpRequest"},
    )
    assert scripted.status_code == 401
    assert "www-authenticate" not in scripted.headers
    assert scripted.json() == basic.json()
    form = await gateway.post(
        "/oauth/token", data=GRANT | {"client_id": client_id, "client_secret": secret}
    )
    assert form.status_code == 401
    # The same answer whether the client exists or not.
    assert form.json() == basic.json()


async def test_token_without_credentials_is_401_invalid_client(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.post("/oauth/token", data=GRANT)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_token_claims_follow_rfc_9068(
    gateway: httpx.AsyncClient, reader: str, keys_dir: Path, gateway_settings: GatewaySettings
) -> None:
    before = int(time.time())
    response = await gateway.post(
        "/oauth/token",
        data=GRANT | {"scope": "inventory:read cooperation:read"},
        auth=(reader, TEST_SECRET),
    )
    token = response.json()["access_token"]
    head, claims = segment(token, 0), segment(token, 1)
    assert head == {"alg": "RS256", "typ": "at+jwt", "kid": active_kid(keys_dir)}
    assert claims["iss"] == gateway_settings.token_issuer
    assert claims["aud"] == gateway_settings.token_audience
    assert claims["sub"] == claims["client_id"] == reader
    assert claims["org"] == "MINAM"
    assert claims["scope"] == "cooperation:read inventory:read"
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] - claims["iat"] == gateway_settings.token_lifetime_s
    assert isinstance(claims["jti"], str)
    assert len(claims["jti"]) >= 16
    assert set(claims) == {"iss", "sub", "aud", "iat", "exp", "jti", "client_id", "org", "scope"}


async def test_every_token_has_its_own_jti(gateway: httpx.AsyncClient, reader: str) -> None:
    jtis = set()
    for _ in range(3):
        response = await gateway.post("/oauth/token", data=GRANT, auth=(reader, TEST_SECRET))
        jtis.add(segment(response.json()["access_token"], 1)["jti"])
    assert len(jtis) == 3


async def test_token_endpoint_accepts_post_only(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/oauth/token", params=GRANT)
    assert response.status_code == 405


async def test_jwks_publishes_public_keys_only(gateway: httpx.AsyncClient, keys_dir: Path) -> None:
    response = await gateway.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "public" in response.headers["cache-control"]
    keys: list[dict[str, Any]] = response.json()["keys"]
    assert [k["kid"] for k in keys] == [active_kid(keys_dir)]
    for key in keys:
        assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
        assert set(key) <= {"kty", "alg", "use", "kid", "n", "e"}
