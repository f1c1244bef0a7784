"""All JOSE code of Enlace: issuing, verifying and publishing access tokens (RFC 9068).

Only this module imports the JOSE library (python-jose), so it could be swapped without
touching the services. JWS only, never JWE. Verification follows ../shared/spec/SECURITY.md:
the header is parsed without trusting it, ``typ``, ``alg`` and ``kid`` are checked against
explicit allow-lists first, and only then is the signature checked with the one algorithm
that the key was published for.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import json
import logging
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk, jwt
from jose.exceptions import JOSEError

log = logging.getLogger("enlace.tokens")

TOKEN_TYPE = "at+jwt"  # noqa: S105 - the RFC 9068 media type, not a secret
# Asymmetric algorithms only, each bound to the key type it needs (no key confusion).
ALLOWED_ALGS: dict[str, str] = {"RS256": "RSA", "ES256": "EC"}
# fullmatch, not match: "$" would also match before a trailing newline.
_KID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Headers that point at keys elsewhere: never followed, and a token carrying them is refused.
_FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})
_REQUIRED = ("exp", "iat", "aud", "iss", "sub", "jti")


class TokenError(Exception):
    """The token is not acceptable; ``description`` is safe to show to the caller."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class VerifiedToken:
    """The verified identity a token carries."""

    client_id: str
    org: str
    scopes: frozenset[str]
    jti: str
    exp: int
    # When it was issued (seconds): a client's tokens issued at or before a revocation epoch
    # of the client are refused (shared/revocations.py).
    iat: int = 0


@dataclass(frozen=True)
class PublicKey:
    """A verification key parsed once, with the one algorithm it is used with."""

    kid: str
    alg: str
    key: Any
    jwk: dict[str, Any]


class KeySource(Protocol):
    """Where a verifier finds the public key named by a ``kid``."""

    async def get(self, kid: str) -> PublicKey | None:  # pragma: no cover - protocol
        ...


def public_key_from_jwk(data: Mapping[str, Any]) -> PublicKey:
    """Parse one published JWK; raises ValueError when it is not a usable public key."""
    if not isinstance(data, Mapping):
        raise ValueError("JWK that is not an object")
    kid, alg, kty = data.get("kid"), data.get("alg"), data.get("kty")
    if not isinstance(kid, str) or not _KID.fullmatch(kid):
        raise ValueError("JWK without a valid kid")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS or ALLOWED_ALGS[alg] != kty:
        raise ValueError(f"JWK {kid}: algorithm and key type not allowed")
    if "d" in data:
        raise ValueError(f"JWK {kid}: private key material in a public key set")
    try:
        key = jwk.construct(dict(data), algorithm=alg)
    except (JOSEError, ValueError, TypeError, KeyError, AttributeError):
        # Malformed members make python-jose raise almost anything.
        raise ValueError(f"JWK {kid}: not a valid {kty} public key") from None
    return PublicKey(kid=kid, alg=alg, key=key, jwk=dict(data))


def keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, PublicKey]:
    """The usable keys of a JWK Set, by kid; unusable entries are skipped and logged.

    Raises ValueError when ``jwks`` is not a JWK Set at all (so a JwksClient keeps its keys).
    """
    entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWK Set")
    keys: dict[str, PublicKey] = {}
    for entry in entries:
        try:
            key = public_key_from_jwk(entry)
        except (ValueError, JOSEError) as exc:
            log.warning("skipping JWK: %s", exc)
            continue
        keys[key.kid] = key
    return keys


class StaticKeys:
    """Keys given by configuration (a JWK Set), parsed once."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = keys_from_jwks(jwks)

    async def get(self, kid: str) -> PublicKey | None:
        return self._keys.get(kid)


class JwksClient:
    """Public keys fetched from a JWKS URL (the gateway's), cached.

    An unknown ``kid`` triggers a refresh at most once per ``cooldown_s``, so a flood of
    tokens with made-up kids cannot turn into a flood of requests to the gateway.
    """

    def __init__(
        self,
        url: str,
        *,
        cooldown_s: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.cooldown_s = cooldown_s
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout_s, trust_env=False)
        self._keys: dict[str, PublicKey] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self, kid: str) -> PublicKey | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self.cooldown_s:
                await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        self.fetches += 1
        try:
            response = await self._client.get(self.url)
            response.raise_for_status()
            keys = keys_from_jwks(response.json())
            if not keys:
                raise ValueError("no usable key in the JWK Set")
            self._keys = keys
        except (httpx.HTTPError, ValueError) as exc:
            # Keep the keys we had: a gateway hiccup must not reject every token.
            log.warning("JWKS refresh failed: %s", type(exc).__name__)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


def _b64_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header of ``token``, parsed but not trusted."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("The token is not a signed JWT.")
    try:
        header = _b64_json(parts[0])
    except (ValueError, binascii.Error, UnicodeError):
        raise TokenError("The token header is not valid.") from None
    if not isinstance(header, dict):
        raise TokenError("The token header is not valid.")
    return header


class TokenVerifier:
    """Verifies access tokens; verified claims are cached until the token expires."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        leeway_s: int = 30,
        cache_size: int = 10_000,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self.cache_size = cache_size
        self._cache: dict[str, VerifiedToken] = {}

    async def verify(self, token: str) -> VerifiedToken:
        """The identity in ``token``, or TokenError saying (safely) why not."""
        cached = self._cache.get(token)
        if cached is not None:
            if cached.exp + self.leeway_s >= time.time():
                return cached
            del self._cache[token]
        header = unverified_header(token)
        if header.get("typ") != TOKEN_TYPE:
            raise TokenError("The token is not an access token (typ must be at+jwt).")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
            raise TokenError("The token's algorithm is not accepted.")
        if _FORBIDDEN_HEADERS & header.keys():
            raise TokenError("The token names keys outside this issuer.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise TokenError("The token does not name a known key.")
        key = await self.keys.get(kid)
        if key is None or key.alg != alg:
            raise TokenError("The token does not name a known key.")
        verified = self._decode(token, key)
        if len(self._cache) >= self.cache_size:
            self._evict()
        self._cache[token] = verified
        return verified

    def _decode(self, token: str, key: PublicKey) -> VerifiedToken:
        options = {f"require_{claim}": True for claim in _REQUIRED} | {"leeway": self.leeway_s}
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.alg],
                audience=self.audience,
                issuer=self.issuer,
                options=options,
            )
        except JOSEError as exc:
            raise TokenError(_jose_reason(exc)) from None
        if not isinstance(claims.get("iat"), int) or claims["iat"] > time.time() + self.leeway_s:
            raise TokenError("The token was issued in the future.")
        client_id, org, scope, jti = (
            claims.get("client_id"),
            claims.get("org"),
            claims.get("scope", ""),
            claims.get("jti"),
        )
        if not all(isinstance(v, str) and v for v in (client_id, org, jti)) or not isinstance(
            scope, str
        ):
            raise TokenError("The token lacks client_id, org or jti.")
        if claims.get("sub") != client_id:
            raise TokenError("The token's subject does not match its client.")
        return VerifiedToken(
            client_id=str(client_id),
            org=str(org),
            scopes=frozenset(scope.split()),
            jti=str(jti),
            exp=int(claims["exp"]),
            iat=claims["iat"],
        )

    def _evict(self) -> None:
        now = time.time()
        for token in [t for t, v in self._cache.items() if v.exp + self.leeway_s < now]:
            del self._cache[token]
        while len(self._cache) >= self.cache_size:
            del self._cache[next(iter(self._cache))]


def _jose_reason(exc: JOSEError) -> str:
    text = str(exc).lower()
    if "expired" in text:
        return "The token has expired."
    if "audience" in text or "aud" in text:
        return "The token is not meant for this API."
    if "issuer" in text or "iss" in text:
        return "The token was not issued by this API's issuer."
    if "signature" in text:
        return "The token signature is not valid."
    return "The token is not valid."


# -- issuing (gateway only) ------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """A private key that signs new tokens, with its public JWK."""

    kid: str
    alg: str
    private_pem: bytes
    public_jwk: dict[str, Any]


def generate_private_key_pem(alg: str = "RS256") -> bytes:
    """A new private key in PKCS#8 PEM for ``alg``."""
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if alg == "RS256":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"unsupported algorithm {alg}")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@functools.lru_cache(maxsize=32)
def _private_key(private_pem: bytes) -> Any:
    """The parsed key of ``private_pem``, parsed once per process: loading an RSA key checks
    it, about 50 ms of CPU, which every token signed and every key reload would pay again."""
    return serialization.load_pem_private_key(private_pem, password=None)


def signing_key(kid: str, private_pem: bytes) -> SigningKey:
    """Load a private key and derive its public JWK (algorithm from the key type)."""
    private = _private_key(private_pem)
    if isinstance(private, rsa.RSAPrivateKey):
        alg = "RS256"
    elif isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp256r1":
        alg = "ES256"
    else:
        raise ValueError(f"key {kid}: only RSA and P-256 keys are supported")
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public = jwk.construct(public_pem, algorithm=alg).to_dict()
    public.update({"kid": kid, "alg": alg, "use": "sig"})
    return SigningKey(kid=kid, alg=alg, private_pem=private_pem, public_jwk=public)


def issue_access_token(
    key: SigningKey,
    *,
    issuer: str,
    audience: str,
    client_id: str,
    org: str,
    scopes: list[str],
    lifetime_s: int,
    now: int | None = None,
) -> tuple[str, dict[str, Any]]:
    """A signed RFC 9068 access token and its claims."""
    issued = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "sub": client_id,
        "aud": audience,
        "iat": issued,
        "exp": issued + lifetime_s,
        "jti": secrets.token_urlsafe(16),
        "client_id": client_id,
        "org": org,
        "scope": " ".join(scopes),
    }
    token = jwt.encode(
        claims,
        _private_key(key.private_pem),
        algorithm=key.alg,
        headers={"kid": key.kid, "typ": TOKEN_TYPE},
    )
    return token, claims
