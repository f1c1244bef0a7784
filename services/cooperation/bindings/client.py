"""The cooperation service's client of the inventory, through the gateway.

It holds a client-credentials token of the service itself (scope ``inventory:read``),
asked for at the gateway's ``POST /oauth/token`` and kept until shortly before it expires
(the gateway allows 30 token requests a minute), and reads metrics at
``/inventory/v1/metrics/{id}``. Never the inventory's database. The secret is never logged.
Every failure (no connection, a timeout, a 5xx, a refused token, an answer that is not a
metric) is an :class:`InventoryUnavailable` with a short reason the binding keeps.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

SCOPE = "inventory:read"
SUBSCRIBE_SCOPE = "inventory:read subscriptions"
VALIDATED = "submission.validated"
SUBSCRIPTIONS = "/inventory/v1/subscriptions"
# A token is renewed this long before it expires (clock skew, a slow call in between).
RENEW_BEFORE_S = 60.0


class InventoryUnavailable(Exception):
    """The inventory could not be read; ``str()`` is a reason safe to show and store."""


@dataclass(frozen=True)
class MetricReading:
    """A metric's answer for one year and scope."""

    status: str
    value: float | None
    unit: str
    submissions: list[int]
    computed_at: str


class InventoryClient:
    """Reads inventory metrics through the gateway at ``base_url`` (``transport`` replaces
    the network, e.g. an in-process ASGI transport in tests)."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        timeout_s: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client_id = client_id
        self._secret = client_secret
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), transport=transport, timeout=timeout_s, trust_env=False
        )
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise InventoryUnavailable("the gateway did not answer in time") from None
        except httpx.HTTPError as error:
            reason = f"no connection to the gateway ({type(error).__name__})"
            raise InventoryUnavailable(reason) from None
        if response.status_code >= 500:
            raise InventoryUnavailable(f"the gateway answered {response.status_code}")
        return response

    async def token(self) -> str:
        """A valid access token, asked for only when the one held is about to expire."""
        async with self._lock:
            if self._token is not None and time.monotonic() < self._expires:
                return self._token
            body = await self._new_token(SCOPE)
            lifetime = float(body.get("expires_in", 300))
            self._token = str(body["access_token"])
            self._expires = time.monotonic() + max(lifetime - RENEW_BEFORE_S, lifetime / 2)
            return self._token

    async def _new_token(self, scope: str) -> dict[str, Any]:
        """The token answer of the gateway for this client and ``scope``."""
        response = await self._request(
            "POST",
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(self._client_id, self._secret.get_secret_value()),
        )
        if response.status_code != 200:
            raise InventoryUnavailable(f"no token: the gateway answered {response.status_code}")
        body: dict[str, Any] = response.json()
        return body

    async def subscribe(self, url: str, secret: SecretStr) -> int:
        """Make this service's subscription to the inventory's ``submission.validated``
        events, delivered to ``url`` and signed with ``secret`` (its own: the receiver knows
        it): earlier ones of this client to the same ``url`` are deleted first, so a restart
        leaves exactly one. The new subscription's id; ``InventoryUnavailable`` when it
        cannot be made."""
        token = (await self._new_token(SUBSCRIBE_SCOPE))["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        listed = await self._request("GET", SUBSCRIPTIONS, headers=auth, params={"limit": 100})
        if listed.status_code != 200:
            raise InventoryUnavailable(f"the inventory answered {listed.status_code}")
        for old in listed.json().get("items", []):
            if old.get("url") == url:
                one = await self._request("GET", f"{SUBSCRIPTIONS}/{old['id']}", headers=auth)
                if one.status_code == 200:
                    match = {"If-Match": one.headers.get("etag", "*")}
                    path = f"{SUBSCRIPTIONS}/{old['id']}"
                    await self._request("DELETE", path, headers=auth | match)
        body = {
            "url": url,
            "event_types": [VALIDATED],
            "description": "Enlace cooperation: indicators fed by the inventory",
            "secret": secret.get_secret_value(),
        }
        created = await self._request("POST", SUBSCRIPTIONS, json=body, headers=auth)
        if created.status_code != 201:
            raise InventoryUnavailable(f"the subscription was refused ({created.status_code})")
        return int(created.json()["id"])

    def forget_token(self) -> None:
        self._token = None

    async def metric(
        self,
        metric: str,
        *,
        year: int,
        schedule: str,
        department: str | None,
        sector: str | None,
    ) -> MetricReading:
        """The metric for ``year`` and the scope; a 401 (a token revoked or expired early)
        gets one new token and one retry."""
        params: dict[str, str | int] = {"year": year, "schedule": schedule}
        if department is not None:
            params["department"] = department
        if sector is not None:
            params["sector"] = sector
        for attempt in range(2):
            token = await self.token()
            response = await self._request(
                "GET",
                f"/inventory/v1/metrics/{metric}",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code == 401 and attempt == 0:
                self.forget_token()
                continue
            break
        if response.status_code != 200:
            raise InventoryUnavailable(f"the inventory answered {response.status_code}")
        try:
            body = response.json()
            return MetricReading(
                status="ok" if body["status"] == "ok" else "no_data",
                value=None if body["value"] is None else float(body["value"]),
                unit=str(body["unit"]),
                submissions=[int(s) for s in body["submissions"]],
                computed_at=str(body["computed_at"]),
            )
        except (ValueError, KeyError, TypeError):
            raise InventoryUnavailable("the inventory's answer is not a metric") from None
