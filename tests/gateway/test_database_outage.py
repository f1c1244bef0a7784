"""The gateway and its own database. It starts while that database is down; what needs the
database (token requests, admin routes, tokens of clients it has never read) answers 503
with Retry-After; the rest is forwarded (anonymous public reads, and every token once the
clients were read: on the last state read). It recovers without a restart.

Outages are real: a closed port, a SQLite directory that does not exist yet, and on
PostgreSQL a role the server refuses connections to (``CONNECTION LIMIT 0``) until the
limit is lifted, so the same URL goes down and comes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from services.cooperation.settings import CooperationSettings
from services.gateway.settings import GatewaySettings
from services.inventory.settings import InventorySettings
from tests.conftest import DB_PREFIX, POSTGRES_URL, Tokens, migrate, mint, on_postgres
from tests.gateway.support import (
    asgi_transport,
    assert_problem,
    bearer,
    running_gateway,
    service_apps,
)
from tests.support import (
    DB_SECRET,
    assert_unavailable,
    postgres_admin,
    postgres_only,
    sqlite_connects_settled,
    terminate_backends,
    unreachable_database,
)

PUBLIC = "/cooperation/v1/public/vocabularies"
HOLDERS = "/inventory/v1/holders"


@dataclass
class Fixtures:
    keys_dir: Path
    gateway: GatewaySettings
    inventory: InventorySettings
    cooperation: CooperationSettings


@pytest.fixture
def fixtures(
    keys_dir: Path,
    gateway_settings: GatewaySettings,
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
) -> Fixtures:
    return Fixtures(keys_dir, gateway_settings, inventory_settings, cooperation_settings)


@asynccontextmanager
async def gateway_on(
    f: Fixtures, database_url: str, **changes: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The gateway on ``database_url`` (``changes`` to its settings) in front of the real
    services, whose own databases are fine."""
    settings = f.gateway.model_copy(update={"database_url": database_url, **changes})
    async with (
        sqlite_connects_settled(),
        service_apps(f.inventory, f.cooperation, f.keys_dir) as (inventory, cooperation),
    ):
        transports = {
            "inventory": asgi_transport(inventory),
            "cooperation": asgi_transport(cooperation),
        }
        async with running_gateway(settings, transports) as (app, client):
            yield app, client


async def token_request(client: httpx.AsyncClient, client_id: str = "someone") -> httpx.Response:
    return await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, "test-secret-for-every-test-client-0123456789"),
    )


async def access_loaded(app: FastAPI) -> None:
    """Wait for the background reload to read the clients (generous: a loaded machine)."""
    deadline = time.monotonic() + 60
    while not app.state.access.loaded:
        assert time.monotonic() < deadline, "the access state was never loaded"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
async def test_the_gateway_starts_and_forwards_while_its_database_is_unreachable(
    kind: str, fixtures: Fixtures, caplog: pytest.LogCaptureFixture
) -> None:
    url = unreachable_database(kind)
    async with gateway_on(fixtures, url, retry_after_s=7, db_timeout_s=2) as (_, client):
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert_problem(ready, 503, "not-ready")
        assert ready.headers["retry-after"] == "7"
        health = await client.get("/health")
        assert health.status_code == 503
        assert health.headers["retry-after"] == "7"
        assert health.json()["components"] == {
            "inventory": "ok",
            "cooperation": "ok",
            "gateway_database": "unreachable",
        }
        assert_unavailable(await token_request(client), "7")
        # A token issued earlier verifies (the signing keys are files), but whether its
        # client was disabled or the token revoked is not known yet: 503, not 401.
        earlier = bearer(mint(fixtures.keys_dir, scopes="inventory:read admin"))
        proxied = await client.get(HOLDERS, headers=earlier)
        assert_unavailable(proxied, "7")
        assert proxied.json()["source"] == "gateway"
        assert_unavailable(await client.get("/admin/clients", headers=earlier), "7")
        # What needs nothing of the gateway's database is served.
        assert (await client.get(PUBLIC)).status_code == 200
        assert (await client.get("/.well-known/jwks.json")).status_code == 200
    assert DB_SECRET not in caplog.text


@dataclass
class LateDatabase:
    """A gateway database URL that does not answer until ``admit``; on PostgreSQL
    ``refuse`` takes it down again."""

    url: str
    kind: str
    role: str = ""

    async def admit(self) -> None:
        if self.kind == "sqlite":  # the directory appears, the database is migrated
            Path(make_url(self.url).database or "").parent.mkdir()
            await asyncio.to_thread(migrate, "gateway", self.url)
        else:
            await postgres_admin(
                f"{POSTGRES_URL}/postgres", f'ALTER ROLE "{self.role}" CONNECTION LIMIT -1'
            )

    async def refuse(self) -> None:
        server = f"{POSTGRES_URL}/postgres"
        await postgres_admin(server, f'ALTER ROLE "{self.role}" CONNECTION LIMIT 0')
        await postgres_admin(
            server,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = :r",
            r=self.role,
        )


@asynccontextmanager
async def late_database(tmp_path: Path, gateway_url: str) -> AsyncIterator[LateDatabase]:
    """On SQLite a file in a directory made only by ``admit``; on PostgreSQL the test
    gateway database reached as a role allowed no connection until ``admit``."""
    if not on_postgres():
        yield LateDatabase(f"sqlite+aiosqlite:///{tmp_path}/later/gateway.db", "sqlite")
        return
    role = f"{DB_PREFIX}gateway_late"
    server, database = f"{POSTGRES_URL}/postgres", f"{POSTGRES_URL}/{DB_PREFIX}gateway"
    await drop_role(role)  # left by an interrupted run
    await postgres_admin(server, f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
    # The tests' schema is made afresh, owned by the administrator: nothing is granted yet.
    grants = ("USAGE ON SCHEMA", "ALL ON ALL TABLES IN SCHEMA", "ALL ON ALL SEQUENCES IN SCHEMA")
    for grant in grants:
        await postgres_admin(database, f'GRANT {grant} public TO "{role}"')
    url = make_url(gateway_url).set(username=role).render_as_string(hide_password=False)
    try:
        yield LateDatabase(url, "postgresql", role)
    finally:
        await drop_role(role)


async def drop_role(role: str) -> None:
    """End the sessions of ``role``, drop its grants on the gateway database and it."""
    server = f"{POSTGRES_URL}/postgres"
    if await postgres_admin(server, "SELECT 1 FROM pg_roles WHERE rolname = :r", r=role):
        await LateDatabase("", "postgresql", role).refuse()
        await postgres_admin(f"{POSTGRES_URL}/{DB_PREFIX}gateway", f'DROP OWNED BY "{role}"')
        await postgres_admin(server, f'DROP ROLE "{role}"')


async def test_the_gateway_recovers_without_a_restart_when_its_database_answers(
    fixtures: Fixtures, tmp_path: Path
) -> None:
    async with (
        late_database(tmp_path, fixtures.gateway.database_url) as db,
        gateway_on(fixtures, db.url, revocation_refresh_s=0.1) as (app, client),
    ):
        stranger = bearer(mint(fixtures.keys_dir, scopes="inventory:read", client_id="stranger"))
        assert_unavailable(await client.get(HOLDERS, headers=stranger))
        assert_unavailable(await token_request(client))
        await db.admit()
        await access_loaded(app)
        assert (await client.get("/health/ready")).status_code == 200
        headers = await Tokens(app, client).headers("partner", "MINEM", "inventory:read")
        assert (await client.get(HOLDERS, headers=headers)).status_code == 200
        # Now that the clients are known, a token of a client that is not one is refused.
        assert_problem(await client.get(HOLDERS, headers=stranger), 401)


@postgres_only
async def test_the_gateway_forwards_on_its_last_state_while_its_database_is_down(
    fixtures: Fixtures, tmp_path: Path
) -> None:
    async with late_database(tmp_path, fixtures.gateway.database_url) as db:
        await db.admit()
        async with gateway_on(fixtures, db.url) as (app, client):
            headers = await Tokens(app, client).headers("partner", "MINEM", "inventory:read")
            await db.refuse()  # the gateway database goes down while the gateway runs
            assert_unavailable(await token_request(client, "partner"))
            assert (await client.get(HOLDERS, headers=headers)).status_code == 200
            health = await client.get("/health")
            assert health.json()["components"]["gateway_database"] == "unreachable"
            assert (await client.get("/health/ready")).status_code == 200  # still serving
            await db.admit()
            assert (await token_request(client, "partner")).status_code == 200


@postgres_only
async def test_token_requests_survive_a_restart_of_the_gateway_database(
    fixtures: Fixtures,
) -> None:
    async with gateway_on(fixtures, fixtures.gateway.database_url) as (app, client):
        await Tokens(app, client).headers("partner", "MINEM", "inventory:read")
        assert await terminate_backends(POSTGRES_URL, f"{DB_PREFIX}gateway") >= 1
        # The pooled connections died; each is tested before use and replaced.
        for _ in range(3):
            assert (await token_request(client, "partner")).status_code == 200
