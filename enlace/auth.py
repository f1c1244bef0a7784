"""OAuth2 client credentials for httpx: one token, cached on disk, renewed before it expires.

A script that asked for a token on every call would meet the gateway's token rate limit
(30 a minute per client by default). ``TokenAuth`` keeps the token in the token cache
(mode 0600) shared by every process of the same user, asks for a new one only when fewer
than a fifth of its lifetime (at most 60 s) remain, and once more when the gateway answers
401 to a token it still thought good (revoked, or the secret rotated).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from enlace.config import Credentials, read_private, write_private

RENEW_MARGIN_S = 60.0


class AuthError(Exception):
    """The gateway refused the credentials, or gave no token."""


class TokenCache:
    """Tokens by gateway and client id in one JSON file (or only in memory without one)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._memory: dict[str, dict[str, Any]] = {}

    def _all(self) -> dict[str, dict[str, Any]]:
        if self.path is None:
            return self._memory
        data = read_private(self.path)
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self._all().get(key)
        return entry if isinstance(entry, dict) else None

    def put(self, key: str, entry: dict[str, Any] | None, now: float | None = None) -> None:
        """Keep (or, with None, forget) one token; expired ones are dropped."""
        data = self._all()
        if entry is None:
            data.pop(key, None)
        else:
            data[key] = entry
        now = time.time() if now is None else now
        data = {k: v for k, v in data.items() if float(v.get("expires_at", 0)) > now}
        if self.path is None:
            self._memory = data
        else:
            write_private(self.path, data)


def fresh(entry: dict[str, Any] | None, now: float) -> bool:
    """True while ``entry`` has more than its renewal margin left."""
    if not entry or not entry.get("access_token"):
        return False
    expires_at = float(entry.get("expires_at", 0))
    lifetime = expires_at - float(entry.get("issued_at", expires_at))
    return now < expires_at - min(RENEW_MARGIN_S, lifetime / 5)


class TokenAuth(httpx.Auth):
    """Adds ``Authorization: Bearer`` from the cache, fetching a token when needed."""

    requires_response_body = True

    def __init__(
        self,
        credentials: Credentials,
        cache: TokenCache,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.cache = cache
        self.clock = clock
        self.key = f"{credentials.base_url}|{credentials.client_id}"
        self.tokens_fetched = 0

    def token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            f"{self.credentials.base_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={
                "Accept": "application/json",
                "Authorization": basic_header(
                    self.credentials.client_id, self.credentials.client_secret
                ),
            },
        )

    def keep(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            raise AuthError(_refusal(response))
        body = response.json()
        token = body.get("access_token")
        if not isinstance(token, str):
            raise AuthError("The gateway's token answer holds no access_token.")
        now = self.clock()
        lifetime = float(body.get("expires_in") or 300)
        self.cache.put(
            self.key,
            {"access_token": token, "issued_at": now, "expires_at": now + lifetime},
            now,
        )
        self.tokens_fetched += 1
        return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        entry = self.cache.get(self.key)
        renewed = False
        if fresh(entry, self.clock()):
            token = str(entry["access_token"])  # type: ignore[index]
        else:
            token = self.keep((yield self.token_request()))
            renewed = True
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        replayable = isinstance(request.stream, httpx.ByteStream)
        if response.status_code == 401 and not renewed and replayable:
            self.cache.put(self.key, None, self.clock())
            token = self.keep((yield self.token_request()))
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


def basic_header(client_id: str, secret: str) -> str:
    """HTTP Basic for a client (RFC 6749 2.3.1: both parts form-urlencoded first)."""
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _refusal(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("error_description") or body.get("detail") or body.get("title")
    reason = f": {detail}" if detail else ""
    return f"The gateway refused the client credentials ({response.status_code}){reason}."
