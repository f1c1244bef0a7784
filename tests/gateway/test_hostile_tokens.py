"""SECURITY.md hostile cases 1-16: tokens and identity, through the real gateway in front of
the real services (case 16: the services reached directly).

Forged tokens are built by hand (base64url JSON, signatures with ``cryptography`` or HMAC),
never with the code under test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from fastapi import FastAPI
from sqlalchemy import event, select

from services.cooperation.settings import CooperationSettings
from services.gateway import keys as keys_module
from services.gateway.keys import KeyStore, new_kid
from services.gateway.models import AuditEntry
from services.gateway.settings import GatewaySettings
from services.inventory.settings import InventorySettings
from shared.tokens import PublicKey, generate_private_key_pem, issue_access_token
from tests.conftest import TEST_SECRET, Tokens, asgi_client
from tests.gateway.support import (
    AUDIENCE,
    ISSUER,
    Recorder,
    TcpServer,
    asgi_transport,
    assert_problem,
    b64json,
    b64url,
    bearer,
    challenge_error,
    claims,
    foreign_private_pem,
    full_stack,
    gateway_key,
    header,
    running_gateway,
    segment,
    sign,
    sign_hmac,
    unsigned,
)
from tests.support import PUBLIC_URL

HOLDERS = "/inventory/v1/holders"
PROGRAMS = "/cooperation/v1/programs"
READER = ("reader-test", "MINAM", "inventory:read cooperation:read")


@pytest.fixture
async def direct(inventory_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling the inventory service directly, with no credentials of its own."""
    async with asgi_client(inventory_app, "http://inventory") as client:
        yield client


async def assert_refused(gateway: httpx.AsyncClient, direct: httpx.AsyncClient, token: str) -> None:
    """``token`` is refused (401 ``invalid_token``) by the gateway's proxy, by the gateway's
    own routes and by a service called directly."""
    for client, path in ((gateway, HOLDERS), (gateway, "/admin/clients"), (direct, "/v1/holders")):
        # Bytes, so that non-ASCII tokens are sent as they are (latin-1, as a server reads them).
        raw = [(b"authorization", f"Bearer {token}".encode("latin-1"))]
        response = await client.get(path, headers=raw)
        assert_problem(response, 401)
        assert challenge_error(response) == "invalid_token", (path, response.headers)


async def registered(tokens: Tokens, client_id: str = "victim-test") -> str:
    """Register a client (so its identity is one the gateway knows) and return its id."""
    await tokens.register(client_id, "MINAM", "inventory:read inventory:write admin")
    return client_id


# -- 1. No Authorization header -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", HOLDERS), ("POST", HOLDERS), ("GET", PROGRAMS), ("GET", "/admin/clients")],
)
async def test_case_01_no_authorization_header_is_401_without_error_code(
    gateway: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await gateway.request(method, path)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer realm="enlace"'
    assert challenge_error(response) is None


# -- 2. Malformed JWT ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "abc.def",
        "a.b.c.d",
        "!!!.###.$$$",
        "....",
        f"{b64url(b'not json')}.{b64json({'sub': 'x'})}.c2ln",
        f"{b64json([1, 2])}.{b64json({'sub': 'x'})}.c2ln",
        f"{b64json({'alg': 'RS256', 'typ': 'at+jwt', 'kid': 'k'})}.bm90IGpzb24.c2ln",
        f"{b64url(bytes(range(256)))}.e30.c2ln",
        "é.é.é",
    ],
    ids=[
        "two-segments",
        "four-segments",
        "bad-base64",
        "empty-segments",
        "non-json-header",
        "header-not-an-object",
        "non-json-payload",
        "binary-header",
        "non-ascii",
    ],
)
async def test_case_02_malformed_jwt_is_401_invalid_token(
    gateway: httpx.AsyncClient, direct: httpx.AsyncClient, token: str
) -> None:
    await assert_refused(gateway, direct, token)


async def test_case_02_real_header_and_payload_with_garbage_signature(
    gateway: httpx.AsyncClient, direct: httpx.AsyncClient, tokens: Tokens
) -> None:
    token = await tokens.get(*READER)
    head, payload, _ = token.split(".")
    for signature in ("", "!!!", "AAAA", b64url(b"\x00" * 256)):
        await assert_refused(gateway, direct, f"{head}.{payload}.{signature}")


# -- 3. alg: none -------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", ""])
async def test_case_03_alg_none_is_401(
    gateway: httpx.AsyncClient, direct: httpx.AsyncClient, tokens: Tokens, keys_dir: Path, alg: str
) -> None:
    client_id = await registered(tokens)
    payload = claims(client_id, scope="inventory:read inventory:write admin")
    head = header(gateway_key(keys_dir).kid, alg=alg)
    await assert_refused(gateway, direct, unsigned(head, payload))
    # Not even with a signature that is valid for the same header and payload as RS256.
    real = sign(head, payload, gateway_key(keys_dir).private_pem)
    await assert_refused(gateway, direct, real)


# -- 4. HS256 signed with the public key --------------------------------------------------------


def public_key_forms(public: PublicKeyTypes) -> dict[str, bytes]:
    """Every byte form of ``public`` an attacker could try as an HMAC secret."""
    forms = {
        "pem-spki": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "der-spki": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }
    try:
        forms["pem-pkcs1"] = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
        )
        forms["der-pkcs1"] = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.PKCS1
        )
    except ValueError:  # EC keys have no PKCS#1 form; their point form instead
        forms["ec-point"] = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return forms


def public_of(private_pem: bytes) -> PublicKeyTypes:
    return serialization.load_pem_private_key(private_pem, password=None).public_key()


def rsa_public(private_pem: bytes) -> rsa.RSAPublicKey:
    public = public_of(private_pem)
    assert isinstance(public, rsa.RSAPublicKey)
    return public


@pytest.mark.parametrize(("alg", "digest"), [("HS256", "sha256"), ("HS512", "sha512")])
async def test_case_04_hmac_signed_with_rsa_public_key_pem_and_der(
    gateway: httpx.AsyncClient,
    direct: httpx.AsyncClient,
    tokens: Tokens,
    keys_dir: Path,
    alg: str,
    digest: str,
) -> None:
    key = gateway_key(keys_dir)
    client_id = await registered(tokens)
    payload = claims(client_id, scope="inventory:read inventory:write admin")
    # The key is public: the JWKS hands it to anyone.
    published = (await gateway.get("/.well-known/jwks.json")).json()["keys"]
    assert key.kid in {k["kid"] for k in published}
    for secret in public_key_forms(public_of(key.private_pem)).values():
        token = sign_hmac(header(key.kid, alg=alg), payload, secret, digest)
        await assert_refused(gateway, direct, token)


async def test_case_04_hmac_signed_with_ec_public_key_pem_and_der(
    tmp_path: Path,
    gateway_settings: GatewaySettings,
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
) -> None:
    keys = tmp_path / "ec-keys"
    keys.mkdir()
    kid = new_kid()
    (keys / f"{kid}.pem").write_bytes(generate_private_key_pem("ES256"))
    async with full_stack(keys, gateway_settings, inventory_settings, cooperation_settings) as (
        app,
        gateway,
        inventory_app,
    ):
        tokens = Tokens(app, gateway)
        genuine = await tokens.get("ec-test", "MINAM", "inventory:read")
        assert segment(genuine, 0)["alg"] == "ES256"
        assert (await gateway.get(HOLDERS, headers=bearer(genuine))).status_code == 200
        payload = claims("ec-test", scope="inventory:read inventory:write")
        private = (keys / f"{kid}.pem").read_bytes()
        async with asgi_client(inventory_app, "http://inventory") as direct:
            for secret in public_key_forms(public_of(private)).values():
                await assert_refused(
                    gateway, direct, sign_hmac(header(kid, "HS256"), payload, secret)
                )
            # An ES256 key named with RS256 is not used as an RSA key either.
            await assert_refused(gateway, direct, sign(header(kid, "RS256"), payload, private))


# -- 5. Payload tampered, signature kept --------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"scope": "inventory:read inventory:write admin"},
        {"org": "MINAM-OTHER"},
        {"client_id": "admin-test", "sub": "admin-test"},
        {"exp": int(time.time()) + 86400},
    ],
    ids=["scope-added", "org", "client", "lifetime"],
)
async def test_case_05_tampered_payload_with_original_signature_is_401(
    gateway: httpx.AsyncClient, direct: httpx.AsyncClient, tokens: Tokens, change: dict[str, Any]
) -> None:
    token = await tokens.get("tamper-test", "MINAM", "inventory:read")
    assert (await gateway.get(HOLDERS, headers=bearer(token))).status_code == 200
    head, _, signature = token.split(".")
    forged = f"{head}.{b64json(segment(token, 1) | change)}.{signature}"
    await assert_refused(gateway, direct, forged)
    write = await gateway.post(HOLDERS, json={}, headers=bearer(forged))
    assert_problem(write, 401, "invalid-token")


# -- 6. Unknown kid; a rotated key works without restart ----------------------------------------


async def test_case_06_unknown_kid_is_401(
    gateway: httpx.AsyncClient, direct: httpx.AsyncClient, tokens: Tokens, keys_dir: Path
) -> None:
    client_id = await registered(tokens)
    payload = claims(client_id)
    unknown = new_kid()
    # Signed by a stranger's key, and signed by the real key but naming another kid.
    await assert_refused(gateway, direct, sign(header(unknown), payload, foreign_private_pem()))
    await assert_refused(
        gateway, direct, sign(header(unknown), payload, gateway_key(keys_dir).private_pem)
    )


@pytest.fixture
async def rotating(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    gateway_settings: GatewaySettings,
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, FastAPI, Path]]:
    """Gateway and services on a key directory of their own (the session's is never rotated);
    each process notices a change of the directory at once instead of within a second."""
    monkeypatch.setattr(keys_module, "RELOAD_EVERY_S", 0.0)
    keys = tmp_path / "keys"
    KeyStore(keys).ensure()
    async with full_stack(keys, gateway_settings, inventory_settings, cooperation_settings) as (
        app,
        client,
        inventory_app,
    ):
        yield app, client, inventory_app, keys


async def test_case_06_rotated_key_works_without_restart(
    rotating: tuple[FastAPI, httpx.AsyncClient, FastAPI, Path],
) -> None:
    app, gateway, inventory_app, keys = rotating
    tokens = Tokens(app, gateway)
    old = await tokens.get(*READER)
    old_kid = segment(old, 0)["kid"]
    assert (await gateway.get(HOLDERS, headers=bearer(old))).status_code == 200

    rotated = KeyStore(keys).rotate()  # as an operator or another gateway process would

    new = await tokens.get(*READER)
    assert segment(new, 0)["kid"] == rotated != old_kid
    published = {k["kid"] for k in (await gateway.get("/.well-known/jwks.json")).json()["keys"]}
    assert published == {old_kid, rotated}
    for token in (new, old):  # tokens signed before the rotation keep working
        assert (await gateway.get(HOLDERS, headers=bearer(token))).status_code == 200
        assert (await gateway.get(PROGRAMS, headers=bearer(token))).status_code == 200
    async with asgi_client(inventory_app, "http://inventory") as direct:
        assert (await direct.get("/v1/holders", headers=bearer(new))).status_code == 200


async def test_case_06_key_rotated_through_the_admin_api_works_at_once(
    rotating: tuple[FastAPI, httpx.AsyncClient, FastAPI, Path],
) -> None:
    app, gateway, _, _ = rotating
    tokens = Tokens(app, gateway)
    admin = await tokens.headers("admin-test", "MINAM", "admin")
    rotated = await gateway.post("/admin/keys/rotate", headers=admin)
    assert rotated.status_code == 200
    token = await tokens.get(*READER)
    assert segment(token, 0)["kid"] == rotated.json()["kid"]
    assert (await gateway.get(HOLDERS, headers=bearer(token))).status_code == 200


# -- 7. kid with path traversal or SQL ----------------------------------------------------------

HOSTILE_KIDS = [
    "../../dev/null",
    "../../../../etc/passwd",
    "/dev/null",
    "' OR 1=1--",
    "x'; DROP TABLE clients;--",
    "%2e%2e%2fkeys",
    "kid\x00.pem",
    "valid-looking-kid\n",
    "a" * 65,
]


async def test_case_07_kid_with_traversal_or_sql_is_401_without_file_or_db_access(
    gateway: httpx.AsyncClient,
    direct: httpx.AsyncClient,
    gateway_app: FastAPI,
    tokens: Tokens,
    keys_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_id = await registered(tokens)
    private = gateway_key(keys_dir).private_pem
    keystore: KeyStore = gateway_app.state.keys
    asked: list[str] = []
    real_get = keystore.get

    async def spy(kid: str) -> PublicKey | None:
        asked.append(kid)
        return await real_get(kid)

    monkeypatch.setattr(keystore, "get", spy)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        statements.append(f"{statement} {params!r}")

    engine = gateway_app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for kid in HOSTILE_KIDS:
            token = sign(header(kid), claims(client_id), private)
            for path in (HOLDERS, "/admin/clients"):
                response = await gateway.get(path, headers=bearer(token))
                assert_problem(response, 401, "invalid-token")
                assert challenge_error(response) == "invalid_token"
            response = await direct.get("/v1/holders", headers=bearer(token))
            assert_problem(response, 401, "invalid-token")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert asked == [], "a hostile kid reached the key store"
    for kid in HOSTILE_KIDS:
        assert not any(kid in s for s in statements), kid


# -- 8. jku / x5u / jwk headers -----------------------------------------------------------------


async def test_case_08_key_url_and_embedded_key_headers_are_refused_without_fetching(
    gateway: httpx.AsyncClient, direct: httpx.AsyncClient, tokens: Tokens, keys_dir: Path
) -> None:
    client_id = await registered(tokens)
    attacker = foreign_private_pem()
    attacker_jwk = {
        "kty": "RSA",
        "kid": "attacker",
        "n": b64url(rsa_public(attacker).public_numbers().n.to_bytes(256, "big")),
        "e": "AQAB",
    }
    real = gateway_key(keys_dir)
    payload = claims(client_id, scope="inventory:read inventory:write admin")
    async with TcpServer(reply=b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}") as server:
        url = f"{server.url}/jwks.json"
        forged = [
            sign(header("attacker", jku=url), payload, attacker),
            sign(header("attacker", x5u=url), payload, attacker),
            sign(header("attacker", jwk=attacker_jwk), payload, attacker),
            sign(header("attacker", x5c=["MIIB"]), payload, attacker),
            # A genuine signature does not make a key URL acceptable either.
            sign(header(real.kid, jku=url), payload, real.private_pem),
            sign(header(real.kid, x5u=url), payload, real.private_pem),
        ]
        for token in forged:
            await assert_refused(gateway, direct, token)
        await asyncio.sleep(0.05)
        assert server.connections == 0, "a URL named by a token was fetched"


# -- 9. Expiry and leeway ------------------------------------------------------------------------


async def minted(tokens: Tokens, keys_dir: Path, *, issued: int, lifetime_s: int = 300) -> str:
    client_id = await registered(tokens)
    token, _ = issue_access_token(
        gateway_key(keys_dir),
        issuer=ISSUER,
        audience=AUDIENCE,
        client_id=client_id,
        org="MINAM",
        scopes=["inventory:read"],
        lifetime_s=lifetime_s,
        now=issued,
    )
    return token


async def test_case_09_expired_beyond_leeway_is_401(
    gateway: httpx.AsyncClient,
    direct: httpx.AsyncClient,
    tokens: Tokens,
    keys_dir: Path,
    gateway_settings: GatewaySettings,
) -> None:
    expired_ago = gateway_settings.token_leeway_s + 60
    token = await minted(tokens, keys_dir, issued=int(time.time()) - 300 - expired_ago)
    await assert_refused(gateway, direct, token)
    response = await gateway.get(HOLDERS, headers=bearer(token))
    assert "expired" in response.headers["www-authenticate"]


async def test_case_09_expired_within_leeway_is_200(
    gateway: httpx.AsyncClient,
    direct: httpx.AsyncClient,
    tokens: Tokens,
    keys_dir: Path,
    gateway_settings: GatewaySettings,
) -> None:
    expired_ago = gateway_settings.token_leeway_s // 2
    token = await minted(tokens, keys_dir, issued=int(time.time()) - 300 - expired_ago)
    assert segment(token, 1)["exp"] < time.time()
    assert (await gateway.get(HOLDERS, headers=bearer(token))).status_code == 200
    assert (await direct.get("/v1/holders", headers=bearer(token))).status_code == 200


# -- 10. Missing exp; nbf / iat in the future ---------------------------------------------------


@pytest.mark.parametrize(
    ("drop", "changes"),
    [
        (("exp",), {}),
        (("iat",), {}),
        ((), {"nbf": int(time.time()) + 3600}),
        ((), {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 3900}),
        ((), {"exp": "tomorrow"}),
        ((), {"iat": "now"}),
    ],
    ids=["no-exp", "no-iat", "nbf-future", "iat-future", "exp-not-a-number", "iat-not-a-number"],
)
async def test_case_10_missing_exp_or_future_nbf_iat_is_401(
    gateway: httpx.AsyncClient,
    direct: httpx.AsyncClient,
    tokens: Tokens,
    keys_dir: Path,
    drop: tuple[str, ...],
    changes: dict[str, Any],
) -> None:
    client_id = await registered(tokens)
    key = gateway_key(keys_dir)
    token = sign(header(key.kid), claims(client_id, drop=drop, **changes), key.private_pem)
    await assert_refused(gateway, direct, token)


# -- 11. Wrong audience, issuer or type ---------------------------------------------------------


@pytest.mark.parametrize(
    ("drop", "changes", "head_changes"),
    [
        (("aud",), {}, {}),
        ((), {"aud": "urn:other:api"}, {}),
        ((), {"aud": ["urn:other:api"]}, {}),
        ((), {"iss": "https://evil.example"}, {}),
        (("iss",), {}, {}),
        ((), {}, {"typ": "JWT"}),
        ((), {}, {"typ": "at+JWT "}),
        ((), {}, {"typ": None}),
        (("sub",), {}, {}),
        (("jti",), {}, {}),
        ((), {"sub": "someone-else"}, {}),
    ],
    ids=[
        "no-aud",
        "other-aud",
        "other-aud-list",
        "other-issuer",
        "no-issuer",
        "typ-JWT",
        "typ-variant",
        "no-typ",
        "no-sub",
        "no-jti",
        "sub-not-client",
    ],
)
async def test_case_11_wrong_audience_issuer_or_type_is_401(
    gateway: httpx.AsyncClient,
    direct: httpx.AsyncClient,
    tokens: Tokens,
    keys_dir: Path,
    drop: tuple[str, ...],
    changes: dict[str, Any],
    head_changes: dict[str, Any],
) -> None:
    client_id = await registered(tokens)
    key = gateway_key(keys_dir)
    head = {k: v for k, v in (header(key.kid) | head_changes).items() if v is not None}
    token = sign(head, claims(client_id, drop=drop, **changes), key.private_pem)
    await assert_refused(gateway, direct, token)


async def test_case_11_control_a_hand_signed_token_with_every_claim_right_is_accepted(
    gateway: httpx.AsyncClient, tokens: Tokens, keys_dir: Path
) -> None:
    """Proves the forged tokens above fail for the one thing each gets wrong."""
    client_id = await registered(tokens)
    key = gateway_key(keys_dir)
    token = sign(header(key.kid), claims(client_id), key.private_pem)
    assert (await gateway.get(HOLDERS, headers=bearer(token))).status_code == 200


# -- 12. Disabled client; revoked jti -----------------------------------------------------------


async def revoke(gateway: httpx.AsyncClient, admin: dict[str, str], **body: str) -> None:
    """Revoke a token through the admin API (204, no body)."""
    revoked = await gateway.post("/admin/tokens/revoke", json=body, headers=admin)
    assert revoked.status_code == 204
    assert revoked.content == b""


async def test_case_12_token_of_a_disabled_client_is_401(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    admin = await tokens.headers("admin-test", "MINAM", "admin")
    token = await tokens.get("partner-test", "GIZ", "cooperation:read")
    assert (await gateway.get(PROGRAMS, headers=bearer(token))).status_code == 200

    disabled = await gateway.post("/admin/clients/partner-test/disable", headers=admin)
    assert disabled.status_code == 200
    assert disabled.json()["disabled"] is True

    response = await gateway.get(PROGRAMS, headers=bearer(token))
    assert_problem(response, 401, "invalid-token")
    assert challenge_error(response) == "invalid_token"
    again = await gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("partner-test", TEST_SECRET),
    )
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"


async def test_case_12_token_whose_jti_was_revoked_is_401(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    admin = await tokens.headers("admin-test", "MINAM", "admin")
    token = await tokens.get("partner-test", "GIZ", "cooperation:read")
    other = await tokens.get("partner-test", "GIZ", "cooperation:read")
    jti = segment(token, 1)["jti"]

    await revoke(gateway, admin, jti=jti, client_id="partner-test", reason="leaked")

    response = await gateway.get(PROGRAMS, headers=bearer(token))
    assert_problem(response, 401, "invalid-token")
    assert "revoked" in response.headers["www-authenticate"]
    # Revocation is by jti: the client's other tokens still work.
    assert (await gateway.get(PROGRAMS, headers=bearer(other))).status_code == 200


async def test_case_12_revoked_admin_token_cannot_use_the_admin_api(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    admin = await tokens.get("admin-test", "MINAM", "admin")
    spare = await tokens.get("admin-test", "MINAM", "admin")
    await revoke(gateway, bearer(spare), jti=segment(admin, 1)["jti"], client_id="admin-test")
    response = await gateway.get("/admin/clients", headers=bearer(admin))
    assert_problem(response, 401, "invalid-token")


# -- 13. Scopes -----------------------------------------------------------------------------------


async def test_case_13_read_scope_on_a_write_route_is_403_insufficient_scope(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    read = await tokens.headers("reader-test", "MINAM", "inventory:read")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await gateway.request(method, HOLDERS, json={"name": "x"}, headers=read)
        assert_problem(response, 403, "insufficient-scope")
        assert challenge_error(response) == "insufficient_scope"
        assert 'scope="inventory:write"' in response.headers["www-authenticate"]


async def test_case_13_scope_of_another_service_is_403(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    donor = await tokens.headers("donor-test", "USAID", "cooperation:read cooperation:write")
    response = await gateway.get(HOLDERS, headers=donor)
    assert_problem(response, 403, "insufficient-scope")
    assert challenge_error(response) == "insufficient_scope"


async def test_case_13_service_checks_the_exact_scope_of_each_route(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    """The gateway's check is coarse (any inventory scope reads); the service's is exact."""
    writer_only = await tokens.headers("writer-test", "MINAM", "inventory:write")
    response = await gateway.get(HOLDERS, headers=writer_only)
    assert_problem(response, 403, "insufficient-scope")
    assert 'scope="inventory:read"' in response.headers["www-authenticate"]


async def test_case_13_admin_api_needs_the_admin_scope(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    everything_else = await tokens.headers(
        "busy-test", "MINAM", "inventory:read inventory:write inventory:review cooperation:write"
    )
    for method, path in (
        ("GET", "/admin/clients"),
        ("GET", "/admin/audit"),
        ("POST", "/admin/keys/rotate"),
    ):
        response = await gateway.request(method, path, headers=everything_else)
        assert_problem(response, 403, "insufficient-scope")
        assert challenge_error(response) == "insufficient_scope"


@pytest.mark.parametrize(
    "scope",
    [
        "admin",
        "inventory:read admin",
        "inventory:review",
        "root",
        "inventory:read cooperation:read",
    ],
)
async def test_case_13_scope_never_granted_is_400_invalid_scope_at_token_endpoint(
    gateway: httpx.AsyncClient, tokens: Tokens, scope: str
) -> None:
    await tokens.register("reader-test", "MINAM", "inventory:read")
    response = await gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=("reader-test", TEST_SECRET),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "access_token" not in response.json()


# -- 14. Token in header and query; duplicate Authorization -------------------------------------


async def test_case_14_token_in_header_and_query_is_400_invalid_request(
    gateway: httpx.AsyncClient, direct: httpx.AsyncClient, tokens: Tokens
) -> None:
    token = await tokens.get(*READER)
    for client, path in ((gateway, HOLDERS), (gateway, "/admin/clients"), (direct, "/v1/holders")):
        for headers in (bearer(token), {}):  # with the header, and the query alone
            response = await client.get(path, params={"access_token": token}, headers=headers)
            assert_problem(response, 400, "invalid-request")
            assert challenge_error(response) == "invalid_request"


@pytest.mark.parametrize("second", ["same", "other", "basic"])
async def test_case_14_duplicate_authorization_headers_are_400_invalid_request(
    gateway: httpx.AsyncClient, direct: httpx.AsyncClient, tokens: Tokens, second: str
) -> None:
    token = await tokens.get(*READER)
    other = {
        "same": f"Bearer {token}",
        "other": f"Bearer {await tokens.get('other-test', 'GIZ', 'inventory:read')}",
        "basic": "Basic YWRtaW46YWRtaW4=",
    }[second]
    headers = [("Authorization", f"Bearer {token}"), ("Authorization", other)]
    for client, path in ((gateway, HOLDERS), (gateway, "/admin/clients"), (direct, "/v1/holders")):
        response = await client.get(path, headers=headers)
        assert_problem(response, 400, "invalid-request")
        assert challenge_error(response) == "invalid_request"


async def test_case_14_duplicate_credentials_at_token_endpoint_are_400_invalid_request(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    await tokens.register("reader-test", "MINAM", "inventory:read")
    basic = httpx.BasicAuth("reader-test", TEST_SECRET)
    value = next(basic.auth_flow(httpx.Request("POST", "http://x"))).headers["authorization"]
    response = await gateway.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=[("Authorization", value), ("Authorization", value)],
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


# -- 15. Client-supplied identity headers -------------------------------------------------------

SPOOFED = {
    "X-Org": "MINAM-EVIL",
    "X-Client-Id": "admin-test",
    "X-User": "root",
    "X-Forwarded-For": "203.0.113.66",
    "X-Real-IP": "203.0.113.66",
    "Forwarded": "for=203.0.113.66;host=evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "http",
    "X-Forwarded-Prefix": "/evil",
    "X-Forwarded-Port": "8443",
}


@pytest.fixture
async def recorded(
    gateway_settings: GatewaySettings, inventory_app: FastAPI, cooperation_app: FastAPI
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Recorder]]:
    """The gateway in front of the real services, recording what the inventory received."""
    recorder = Recorder(asgi_transport(inventory_app))
    transports = {"inventory": recorder, "cooperation": asgi_transport(cooperation_app)}
    async with running_gateway(gateway_settings, transports) as (app, client):
        yield app, client, recorder


async def test_case_15_spoofed_identity_headers_never_reach_the_service(
    recorded: tuple[FastAPI, httpx.AsyncClient, Recorder],
) -> None:
    app, gateway, recorder = recorded
    token = await Tokens(app, gateway).get("partner-test", "GIZ", "inventory:read")
    response = await gateway.get(HOLDERS, headers=bearer(token) | SPOOFED)
    assert response.status_code == 200
    (seen,) = recorder.seen
    for name, value in SPOOFED.items():
        assert value not in seen.headers.get(name, "").split(", "), name
    assert "x-org" not in seen.headers
    assert "x-client-id" not in seen.headers
    # The one forwarding header the service gets is the gateway's own view of the caller...
    assert seen.headers["x-forwarded-for"] == "127.0.0.1"
    # ...and where callers reach the service: the public origin and the service's prefix.
    scheme, _, host = PUBLIC_URL.partition("://")
    assert seen.headers["x-forwarded-host"] == host
    assert seen.headers["x-forwarded-proto"] == scheme
    assert seen.headers["x-forwarded-prefix"] == "/inventory"
    assert "x-forwarded-port" not in seen.headers
    # ...and the identity it may rely on is the verified token.
    assert seen.headers["authorization"] == f"Bearer {token}"


async def test_case_15_audit_names_the_verified_identity_not_the_claimed_one(
    recorded: tuple[FastAPI, httpx.AsyncClient, Recorder],
) -> None:
    app, gateway, _ = recorded
    token = await Tokens(app, gateway).get("partner-test", "GIZ", "inventory:read")
    assert (await gateway.get(HOLDERS, headers=bearer(token) | SPOOFED)).status_code == 200
    await app.state.audit.flush()
    async with app.state.db.sessions() as session:
        row = await session.scalar(select(AuditEntry).where(AuditEntry.path == HOLDERS))
    assert row is not None
    assert (row.client_id, row.org, row.ip) == ("partner-test", "GIZ", "127.0.0.1")


async def test_case_15_spoofed_forwarded_for_does_not_escape_the_token_rate_limit(
    gateway_settings: GatewaySettings,
) -> None:
    settings = gateway_settings.model_copy(update={"token_rate_limit_per_minute": 2})
    async with running_gateway(settings) as (_, gateway):
        statuses = [
            (
                await gateway.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    headers={"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"198.51.100.{i}"},
                )
            ).status_code
            for i in range(3)
        ]
    assert statuses[-1] == 429


# -- 16. Service reached directly ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "path"), [("inventory", "/v1/holders"), ("cooperation", "/v1/programs")]
)
async def test_case_16_service_reached_directly_without_token_is_401(
    inventory_app: FastAPI, cooperation_app: FastAPI, service: str, path: str
) -> None:
    app = inventory_app if service == "inventory" else cooperation_app
    async with asgi_client(app, f"http://{service}") as client:
        response = await client.get(path)
    assert_problem(response, 401, "unauthorized")
    assert challenge_error(response) is None


@pytest.mark.parametrize(
    ("service", "path"), [("inventory", "/v1/holders"), ("cooperation", "/v1/programs")]
)
async def test_case_16_service_reached_directly_with_a_bad_token_is_401(
    inventory_app: FastAPI, cooperation_app: FastAPI, keys_dir: Path, service: str, path: str
) -> None:
    app = inventory_app if service == "inventory" else cooperation_app
    key = gateway_key(keys_dir)
    scope = "inventory:read cooperation:read"
    public = public_of(key.private_pem)
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    bad = [
        "garbage",
        unsigned(header(key.kid, alg="none"), claims(scope=scope)),
        sign(header(key.kid), claims(scope=scope), foreign_private_pem()),
        sign_hmac(header(key.kid, alg="HS256"), claims(scope=scope), pem),
        sign(header(key.kid), claims(scope=scope, aud="urn:other"), key.private_pem),
    ]
    async with asgi_client(app, f"http://{service}") as client:
        for token in bad:
            response = await client.get(path, headers=bearer(token))
            assert_problem(response, 401, "invalid-token")
            assert challenge_error(response) == "invalid_token"
        # Control: the services verify tokens themselves, so a genuine one is accepted.
        genuine = sign(header(key.kid), claims(scope=scope), key.private_pem)
        assert (await client.get(path, headers=bearer(genuine))).status_code == 200
