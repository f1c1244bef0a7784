"""Issue 9 item 15: revocations reach the services reached directly. The real inventory app
fetches the real gateway's revocation list (as it would over the network, here in-process);
disabling a client, revoking a token by jti, rotating a secret or revoking all of a client's
tokens is refused by the gateway at once and by the service after its next refresh."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from services.cooperation.app import create_app as create_cooperation
from services.cooperation.settings import CooperationSettings
from services.gateway.access import AccessState
from services.gateway.keys import KeyStore
from services.gateway.models import Client
from services.gateway.settings import GatewaySettings
from services.inventory.app import create_app as create_inventory
from services.inventory.settings import InventorySettings
from shared.db import Database
from shared.revocations import RevocationList, Revocations, issued_at
from shared.tokens import VerifiedToken
from tests.conftest import TEST_SECRET, Tokens, asgi_client, mint, running
from tests.gateway.support import (
    asgi_transport,
    assert_problem,
    bearer,
    challenge_error,
    running_gateway,
    segment,
)
from tests.support import closed_port

LIST = "http://gateway/.well-known/revocations.json"
READ = ("partner-test", "MINAM", "inventory:read")


class Later(httpx.AsyncBaseTransport):
    """A transport into an app made after the one that uses it (or cut off again: None)."""

    def __init__(self) -> None:
        self.inner: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.inner is None:
            raise httpx.ConnectError("the gateway is not reachable", request=request)
        return await self.inner.handle_async_request(request)


@dataclass
class Stack:
    gateway: httpx.AsyncClient
    service: httpx.AsyncClient  # the inventory service, called directly
    tokens: Tokens
    revocations: RevocationList
    to_gateway: Later

    async def admin(self) -> dict[str, str]:
        return await self.tokens.headers("admin-test", "MINAM", "admin")

    async def token(self, secret: str = TEST_SECRET) -> str:
        if READ[0] not in self.tokens.app.state.access.limits:
            await self.tokens.register(*READ)
        response = await self.gateway.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(READ[0], secret)
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def statuses(self, token: str) -> tuple[int, int]:
        """What the gateway and the service reached directly answer to ``token``."""
        through = await self.gateway.get("/inventory/v1/holders", headers=bearer(token))
        direct = await self.service.get("/v1/holders", headers=bearer(token))
        for refused in (r for r in (through, direct) if r.status_code == 401):
            assert_problem(refused, 401, "invalid-token")
            assert challenge_error(refused) == "invalid_token"
        return through.status_code, direct.status_code


@asynccontextmanager
async def stack(
    gateway_settings: GatewaySettings,
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
    keys_dir: Path,
    refresh_s: float = 3600,
) -> AsyncIterator[Stack]:
    """Gateway and services; the inventory service learns revocations from the gateway (the
    tests refresh it themselves, unless ``refresh_s`` is short)."""
    to_gateway = Later()
    revocations = RevocationList(LIST, refresh_s=refresh_s, transport=to_gateway)
    inventory = create_inventory(
        inventory_settings, key_source=KeyStore(keys_dir), revocations=revocations
    )
    cooperation = create_cooperation(cooperation_settings, key_source=KeyStore(keys_dir))
    async with running(inventory), running(cooperation):
        transports = {
            "inventory": asgi_transport(inventory),
            "cooperation": asgi_transport(cooperation),
        }
        async with (
            running_gateway(gateway_settings, transports) as (app, gateway),
            asgi_client(inventory, "http://inventory") as service,
        ):
            to_gateway.inner = asgi_transport(app)
            assert await revocations.refresh()
            yield Stack(gateway, service, Tokens(app, gateway), revocations, to_gateway)


@pytest.fixture
async def apps(
    gateway_settings: GatewaySettings,
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
    keys_dir: Path,
) -> AsyncIterator[Stack]:
    async with stack(gateway_settings, inventory_settings, cooperation_settings, keys_dir) as s:
        yield s


async def test_a_token_revoked_by_jti_is_refused_by_the_service_reached_directly(
    apps: Stack,
) -> None:
    token, other = await apps.token(), await apps.token()
    assert await apps.statuses(token) == (200, 200)
    admin = await apps.admin()
    body = {"jti": segment(token, 1)["jti"], "client_id": READ[0]}
    assert (
        await apps.gateway.post("/admin/tokens/revoke", json=body, headers=admin)
    ).status_code == 204

    assert (await apps.statuses(token))[0] == 401  # the gateway: at once
    assert await apps.revocations.refresh()
    assert await apps.statuses(token) == (401, 401)
    assert await apps.statuses(other) == (200, 200)  # by jti: the client's other tokens work


async def test_a_disabled_clients_tokens_stay_refused_after_it_is_enabled_again(
    apps: Stack,
) -> None:
    before = await apps.token()
    admin = await apps.admin()
    assert (
        await apps.gateway.post(f"/admin/clients/{READ[0]}/disable", headers=admin)
    ).status_code == 200
    assert await apps.revocations.refresh()
    assert await apps.statuses(before) == (401, 401)

    assert (
        await apps.gateway.post(f"/admin/clients/{READ[0]}/enable", headers=admin)
    ).status_code == 200
    assert await apps.revocations.refresh()
    assert await apps.statuses(before) == (401, 401)
    # A token asked for at once (most likely in the second of the disable) is valid.
    after = await apps.token()
    assert await apps.statuses(after) == (200, 200)


async def test_rotating_a_secret_refuses_the_tokens_issued_with_the_old_one(apps: Stack) -> None:
    old = await apps.token()
    admin = await apps.admin()
    rotated = await apps.gateway.post(f"/admin/clients/{READ[0]}/rotate-secret", headers=admin)
    assert rotated.status_code == 200
    secret = rotated.json()["client_secret"]
    assert await apps.revocations.refresh()

    assert await apps.statuses(old) == (401, 401)
    refused = await apps.gateway.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(READ[0], TEST_SECRET)
    )
    assert refused.status_code == 401
    new = await apps.token(secret)
    assert await apps.statuses(new) == (200, 200)


async def test_revoke_tokens_refuses_every_token_issued_so_far_and_only_those(
    apps: Stack,
) -> None:
    first, second = await apps.token(), await apps.token()
    admin = await apps.admin()
    revoked = await apps.gateway.post(f"/admin/clients/{READ[0]}/revoke-tokens", headers=admin)
    assert revoked.status_code == 204
    assert await apps.revocations.refresh()
    assert await apps.statuses(first) == (401, 401)
    assert await apps.statuses(second) == (401, 401)
    new = await apps.token()
    epoch = apps.revocations.current.valid_after[READ[0]]  # type: ignore[union-attr]
    assert segment(new, 1)["iat"] > epoch
    assert await apps.statuses(new) == (200, 200)
    # Another client's tokens are untouched.
    assert (await apps.gateway.get("/admin/clients", headers=admin)).status_code == 200


async def test_the_published_list_is_minimal_and_leaves_out_epochs_no_live_token_needs(
    apps: Stack,
) -> None:
    token = await apps.token()
    admin = await apps.admin()
    body = {"jti": segment(token, 1)["jti"], "client_id": READ[0], "reason": "leaked laptop"}
    await apps.gateway.post("/admin/tokens/revoke", json=body, headers=admin)
    await apps.gateway.post(f"/admin/clients/{READ[0]}/revoke-tokens", headers=admin)
    await apps.tokens.register("old-test", "GIZ", "cooperation:read")
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    async with apps.tokens.app.state.db.sessions() as session:
        await session.execute(
            update(Client).where(Client.client_id == "old-test").values(tokens_valid_after=long_ago)
        )
        await session.commit()
    await apps.tokens.app.state.access.load()

    response = await apps.gateway.get("/.well-known/revocations.json")  # anonymous, as JWKS
    assert response.status_code == 200
    document = response.json()
    assert set(document) == {"jtis", "valid_after"}
    assert document["jtis"] == [body["jti"]]
    assert set(document["valid_after"]) == {READ[0]}
    assert abs(document["valid_after"][READ[0]] - time.time()) < 60
    assert "leaked" not in response.text
    # The gateway itself still knows the old epoch.
    assert apps.tokens.app.state.access.revocations.valid_after["old-test"] < time.time() - 3600


async def test_a_service_that_never_got_the_list_refuses_tokens_with_503_then_keeps_the_last(
    apps: Stack,
) -> None:
    token = await apps.token()
    admin = await apps.admin()
    body = {"jti": segment(token, 1)["jti"], "client_id": READ[0]}
    await apps.gateway.post("/admin/tokens/revoke", json=body, headers=admin)
    assert await apps.revocations.refresh()

    apps.to_gateway.inner = None  # the gateway cannot be reached any more
    assert not await apps.revocations.refresh()
    assert await apps.statuses(token) == (401, 401)  # the last list is kept
    assert (await apps.statuses(await apps.token()))[1] == 200

    apps.revocations.current = None  # as a service that started while the gateway was away
    never = await apps.service.get("/v1/holders", headers=bearer(await apps.token()))
    assert_problem(never, 503, "revocations-unavailable")
    assert never.headers["retry-after"] == "3600"
    assert (await apps.service.get("/health/live")).status_code == 200


async def test_a_gateway_that_could_not_read_its_database_publishes_no_list(
    apps: Stack, tmp_path: Path
) -> None:
    gateway_app = apps.tokens.app
    running_state = gateway_app.state.access
    unreadable = Database(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'gateway.db'}")
    gateway_app.state.access = AccessState(unreadable, refresh_s=3600)
    try:
        with pytest.raises(OperationalError):
            await gateway_app.state.access.load()
        response = await apps.gateway.get("/.well-known/revocations.json")
        # An empty list would be read as "nothing is revoked".
        assert_problem(response, 503, "not-ready")
        assert "retry-after" in response.headers
        assert not await apps.revocations.refresh()
        assert apps.revocations.ready  # the service keeps the list it had
    finally:
        gateway_app.state.access = running_state  # stopped by the lifespan
        await unreadable.close()


async def test_the_service_refreshes_the_list_by_itself(
    gateway_settings: GatewaySettings,
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
    keys_dir: Path,
) -> None:
    async with stack(
        gateway_settings, inventory_settings, cooperation_settings, keys_dir, refresh_s=0.05
    ) as apps:
        token = await apps.token()
        admin = await apps.admin()
        await apps.gateway.post(f"/admin/clients/{READ[0]}/revoke-tokens", headers=admin)
        for _ in range(200):  # 10 s at most; a refresh every 0.05 s
            if (await apps.service.get("/v1/holders", headers=bearer(token))).status_code == 401:
                break
            await asyncio.sleep(0.05)
        assert await apps.statuses(token) == (401, 401)


async def test_a_service_configured_with_the_gateway_jwks_url_fetches_revocations_beside_it(
    inventory_settings: InventorySettings, keys_dir: Path
) -> None:
    jwks = f"http://127.0.0.1:{closed_port()}/.well-known/jwks.json"
    settings = inventory_settings.model_copy(update={"jwks_url": jwks})
    assert settings.revocation_list_url == jwks.replace("jwks.json", "revocations.json")
    explicit = settings.model_copy(update={"revocations_url": "http://elsewhere/revoked"})
    assert explicit.revocation_list_url == "http://elsewhere/revoked"
    assert inventory_settings.revocation_list_url is None

    # Nobody listens there: fail closed rather than accept what may be revoked.
    app = create_inventory(settings, key_source=KeyStore(keys_dir))
    async with running(app), asgi_client(app, "http://inventory") as service:
        token = mint(keys_dir, scopes="inventory:read")
        response = await service.get("/v1/holders", headers=bearer(token))
    assert_problem(response, 503, "revocations-unavailable")
    assert response.headers["retry-after"] == "5"


def test_revocation_epochs_compare_whole_seconds_and_new_tokens_come_after_them() -> None:
    def token(iat: int, client_id: str = "c") -> VerifiedToken:
        return VerifiedToken(client_id, "MINAM", frozenset(), "j" * 16, iat + 300, iat)

    revocations = Revocations(frozenset({"x" * 16}), {"c": 1000})
    assert revocations.refuses(token(999))
    assert revocations.refuses(token(1000))  # issued in the epoch's second: maybe before it
    assert not revocations.refuses(token(1001))
    assert not revocations.refuses(token(5, client_id="other"))
    # A token asked for in the epoch's second is issued in the next one.
    assert issued_at(1000.9, 1000) == 1001
    assert issued_at(1002.3, 1000) == 1002
    assert issued_at(1002.3, None) == 1002
    published = json.loads(json.dumps(revocations.document()))
    assert Revocations.from_document(published) == revocations


@pytest.mark.parametrize(
    "document",
    [[], {"jtis": "x"}, {"jtis": [1]}, {"jtis": []}, {"jtis": [], "valid_after": {"c": "1"}}],
)
def test_a_malformed_revocation_list_is_refused(document: object) -> None:
    with pytest.raises(ValueError, match=r"revocation list|valid_after"):
        Revocations.from_document(document)
