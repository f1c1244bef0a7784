"""Test fixtures: real databases (SQLite files, or PostgreSQL when configured), migrated
with Alembic once per run and emptied after each test; real service apps behind the real
gateway, in-process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import httpx
import psycopg2
import pytest
from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import MetaData, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.cooperation import models as cooperation_models  # noqa: F401
from services.cooperation.app import create_app as create_cooperation
from services.cooperation.db import Base as CooperationBase
from services.cooperation.settings import CooperationSettings
from services.gateway import models as gateway_models  # noqa: F401
from services.gateway.app import create_app as create_gateway
from services.gateway.db import Base as GatewayBase
from services.gateway.keys import KeyStore
from services.gateway.models import Client
from services.gateway.settings import GatewaySettings
from services.inventory import models as inventory_models  # noqa: F401
from services.inventory.app import create_app as create_inventory
from services.inventory.db import Base as InventoryBase
from services.inventory.settings import InventorySettings
from shared.tokens import issue_access_token
from tests.support import GATEWAY_PEER, PUBLIC_URL, asgi_transport

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("inventory", "cooperation", "gateway")
METADATA: dict[str, MetaData] = {
    "inventory": InventoryBase.metadata,
    "cooperation": CooperationBase.metadata,
    "gateway": GatewayBase.metadata,
}
POSTGRES_URL = os.environ.get("ENLACE_TEST_POSTGRES_URL", "").rstrip("/")
DB_PREFIX = os.environ.get("ENLACE_TEST_DB_PREFIX", "enlace_test_")
# argon2 is slow on purpose; the tests hash and verify client secrets at the lowest cost.
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}


def on_postgres() -> bool:
    """True when this run of the suite is the PostgreSQL run."""
    return bool(POSTGRES_URL)


def database_url(name: str, tmp_dir: Path) -> str:
    """The URL of test database ``name`` (``enlace_test_<name>`` on PostgreSQL; the prefix
    can be changed with ENLACE_TEST_DB_PREFIX so that two runs on one server do not meet)."""
    if POSTGRES_URL:
        return f"{POSTGRES_URL}/{DB_PREFIX}{name}"
    return f"sqlite+aiosqlite:///{tmp_dir / f'{name}.db'}"


def alembic_config(service: str, url: str) -> Config:
    """The named environment of the project's alembic.ini, pointed at ``url``."""
    config = Config(str(ROOT / "alembic.ini"), ini_section=service)
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


async def _reset_schema(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


def fresh_database(url: str) -> None:
    """Make the database at ``url`` empty (drop everything in it)."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).unlink(missing_ok=True)
    else:
        asyncio.run(_reset_schema(url))


def in_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a fresh thread: Alembic's environments call ``asyncio.run``, which
    cannot nest inside the event loop pytest-asyncio may already be running here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result()


def migrate(service: str, url: str, revision: str = "head") -> None:
    """``alembic upgrade`` one service database to ``revision``."""
    in_thread(lambda: command.upgrade(alembic_config(service, url), revision))


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One migrated database per service for the whole run."""
    tmp_dir = tmp_path_factory.mktemp("db")
    urls = {name: database_url(name, tmp_dir) for name in SERVICES}
    for name, url in urls.items():
        in_thread(lambda url=url: fresh_database(url))  # type: ignore[misc]
        migrate(name, url)
    return urls


# Emptying the databases after each test is the fixtures' main cost: one plain connection
# of the synchronous driver per database (no engine, no event-loop thread) and one round
# trip of DELETEs (TRUNCATE of every table, on PostgreSQL, makes new files for each table
# and its indexes: ten times slower than deleting the few rows a test wrote).
_RESET_SEQUENCES = """
DO $$ BEGIN
  PERFORM setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)
  FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL;
END $$"""


def _empty_tables(url: str, metadata: MetaData) -> None:
    """Delete every row of ``metadata``'s tables, children first; on PostgreSQL the
    sequences restart too (as ``TRUNCATE ... RESTART IDENTITY`` would)."""
    deletes = [str(table.delete()) for table in reversed(metadata.sorted_tables)]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
            db.execute("PRAGMA synchronous=OFF")  # a test database need not survive a crash
            with db:  # one transaction
                for statement in deletes:
                    db.execute(statement)
        return
    where = make_url(url)
    conn = psycopg2.connect(
        host=where.host,
        port=where.port,
        user=where.username,
        password=where.password,
        dbname=where.database,
    )
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(";\n".join([*deletes, _RESET_SEQUENCES]))
    finally:
        conn.close()


@pytest.fixture
async def clean_databases(database_urls: dict[str, str]) -> AsyncIterator[dict[str, str]]:
    """The test databases, emptied after the test so no test sees another's data."""
    yield database_urls
    for name, url in database_urls.items():
        _empty_tables(url, METADATA[name])


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gateway's signing-key directory for the whole run (one key, made once)."""
    directory = tmp_path_factory.mktemp("keys")
    KeyStore(directory).ensure()
    return directory


@pytest.fixture
def inventory_settings(clean_databases: dict[str, str]) -> InventorySettings:
    # No delivery worker polling the outbox, but in the webhook tests (WEBHOOK_TEST_SETTINGS).
    return InventorySettings(
        database_url=clean_databases["inventory"],
        access_log=False,
        trusted_proxies=GATEWAY_PEER,
        webhook_worker=False,
    )


@pytest.fixture
def cooperation_settings(clean_databases: dict[str, str]) -> CooperationSettings:
    return CooperationSettings(
        database_url=clean_databases["cooperation"],
        access_log=False,
        trusted_proxies=GATEWAY_PEER,
        webhook_worker=False,
    )


@pytest.fixture
def gateway_settings(
    clean_databases: dict[str, str], keys_dir: Path, tmp_path: Path
) -> GatewaySettings:
    return GatewaySettings(
        database_url=clean_databases["gateway"],
        inventory_url="http://inventory",
        cooperation_url="http://cooperation",
        public_url=PUBLIC_URL,
        keys_dir=str(keys_dir),
        audit_spool_dir=str(tmp_path / "audit-spool"),
        # Each request's entry is written at once instead of waiting 2 ms for others to join
        # its transaction (a test sends one request at a time); the group commit itself is
        # tested on AuditLog with its default wait (tests/gateway/test_audit*.py).
        audit_flush_ms=0,
        access_log=False,
        **CHEAP_ARGON2,
    )


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """``app`` with its lifespan (database, keys, background tasks) started."""
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def inventory_app(
    inventory_settings: InventorySettings, keys_dir: Path
) -> AsyncIterator[FastAPI]:
    async with running(create_inventory(inventory_settings, key_source=KeyStore(keys_dir))) as app:
        yield app


@pytest.fixture
async def cooperation_app(
    cooperation_settings: CooperationSettings, keys_dir: Path
) -> AsyncIterator[FastAPI]:
    settings, keys = cooperation_settings, KeyStore(keys_dir)
    async with running(create_cooperation(settings, key_source=keys)) as app:
        yield app


def asgi_client(app: FastAPI, base_url: str) -> httpx.AsyncClient:
    """An httpx client talking to ``app`` in-process, errors answered as a server would."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=base_url
    )


@pytest.fixture
async def gateway_app(
    gateway_settings: GatewaySettings, inventory_app: FastAPI, cooperation_app: FastAPI
) -> AsyncIterator[FastAPI]:
    """The real gateway in front of the real services."""
    transports = {
        "inventory": asgi_transport(inventory_app),
        "cooperation": asgi_transport(cooperation_app),
    }
    async with running(create_gateway(gateway_settings, transports=transports)) as app:
        yield app


@pytest.fixture
async def gateway(gateway_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(gateway_app, "http://gateway") as client:
        yield client


TEST_SECRET = "test-secret-for-every-test-client-0123456789"
# Hashed at the tests' low cost, which the gateway's verification then pays too.
TEST_SECRET_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(TEST_SECRET)


class Tokens:
    """Registers clients in the gateway database and gets their tokens from /oauth/token."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    async def register(
        self, client_id: str, org: str, scopes: str, *, rate_limit_per_minute: int | None = None
    ) -> None:
        """Add a client whose secret is TEST_SECRET."""
        async with self.app.state.db.sessions() as session:
            session.add(
                Client(
                    client_id=client_id,
                    name=client_id,
                    org_code=org,
                    scopes=scopes,
                    secret_hash=TEST_SECRET_HASH,
                    rate_limit_per_minute=rate_limit_per_minute,
                )
            )
            await session.commit()
        await self.app.state.access.load()

    async def get(self, client_id: str, org: str, scopes: str, **kwargs: int | None) -> str:
        """Register the client if needed and return a token with all of ``scopes``."""
        if client_id not in self.app.state.access.limits:
            await self.register(client_id, org, scopes, **kwargs)  # type: ignore[arg-type]
        response = await self.client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": scopes},
            auth=(client_id, TEST_SECRET),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def headers(self, client_id: str, org: str, scopes: str) -> dict[str, str]:
        """An Authorization header for the client."""
        return {"Authorization": f"Bearer {await self.get(client_id, org, scopes)}"}


@pytest.fixture
async def tokens(gateway_app: FastAPI, gateway: httpx.AsyncClient) -> Tokens:
    return Tokens(gateway_app, gateway)


def mint(keys_dir: Path, *, scopes: str, org: str = "MINAM", client_id: str = "direct-test") -> str:
    """A token signed by the gateway's key without going through /oauth/token (for calling a
    service directly, as a caller that bypasses the gateway with a real token would)."""
    token, _ = issue_access_token(
        KeyStore(keys_dir).active(),
        issuer=GatewaySettings.model_fields["token_issuer"].default,
        audience=GatewaySettings.model_fields["token_audience"].default,
        client_id=client_id,
        org=org,
        scopes=scopes.split(),
        lifetime_s=300,
    )
    return token


ALL_READ = "inventory:read cooperation:read"


@pytest.fixture
def direct_headers(keys_dir: Path) -> dict[str, str]:
    """Authorization for calling the services directly with every read scope."""
    return {"Authorization": f"Bearer {mint(keys_dir, scopes=ALL_READ)}"}


@asynccontextmanager
async def direct_client(
    app: FastAPI, base_url: str, headers: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling ``app`` directly (not through the gateway) with ``headers``."""
    async with asgi_client(app, base_url) as client:
        client.headers.update(headers)
        yield client


@pytest.fixture
async def inventory(
    inventory_app: FastAPI, direct_headers: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    async with direct_client(inventory_app, "http://inventory", direct_headers) as client:
        yield client


@pytest.fixture
async def cooperation(
    cooperation_app: FastAPI, direct_headers: dict[str, str]
) -> AsyncIterator[httpx.AsyncClient]:
    async with direct_client(cooperation_app, "http://cooperation", direct_headers) as client:
        yield client
