"""The gateway's command line: clients, keys, audit chain, demo clients."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from services.gateway import cli, seed
from services.gateway.keys import KeyStore
from services.gateway.models import Client
from shared.db import Database
from tests.conftest import CHEAP_ARGON2, in_thread


@pytest.fixture
def gateway_env(
    clean_databases: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The CLI pointed at the test gateway database and a key directory of its own."""
    keys = tmp_path / "keys"
    monkeypatch.setenv("GATEWAY_DATABASE_URL", clean_databases["gateway"])
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(keys))
    for name, value in CHEAP_ARGON2.items():
        monkeypatch.setenv(f"GATEWAY_{name.upper()}", str(value))
    monkeypatch.chdir(tmp_path)  # the demo seed writes var/demo-credentials.json here
    return keys


def run(*argv: str) -> int:
    return in_thread(lambda: cli.main(list(argv)))


@pytest.mark.usefixtures("gateway_env")
def test_create_list_disable_and_rotate_clients(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("clients", "create", "oefa-sys", "--org", "OEFA", "--scopes", "inventory:read") == 0
    created = json.loads(capsys.readouterr().out)
    assert created["client_id"] == "oefa-sys"
    assert len(created["client_secret"]) >= 40

    assert run("clients", "create", "oefa-sys", "--org", "OEFA", "--scopes", "inventory:read") == 1
    assert run("clients", "create", "x-sys", "--org", "OEFA", "--scopes", "root") == 1
    capsys.readouterr()

    assert run("clients", "disable", "oefa-sys") == 0
    assert run("clients", "list") == 0
    listing = capsys.readouterr().out
    assert "oefa-sys\tOEFA\tdisabled\tinventory:read" in listing
    assert created["client_secret"] not in listing

    assert run("clients", "rotate-secret", "oefa-sys") == 0
    rotated = json.loads(capsys.readouterr().out)
    assert rotated["client_secret"] != created["client_secret"]
    assert run("clients", "disable", "nobody") == 1


@pytest.mark.usefixtures("gateway_env")
def test_revoke_tokens_sets_the_clients_revocation_epoch(
    clean_databases: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("clients", "create", "oefa-sys", "--org", "OEFA", "--scopes", "inventory:read") == 0
    assert run("clients", "revoke-tokens", "oefa-sys") == 0
    assert "revoked" in capsys.readouterr().out

    async def epoch() -> datetime | None:
        database = Database(clean_databases["gateway"])
        async with database.sessions() as session:
            found = await session.scalar(select(Client).where(Client.client_id == "oefa-sys"))
        await database.close()
        return found.tokens_valid_after if found else None

    after = in_thread(lambda: asyncio.run(epoch()))
    assert after is not None
    assert abs((datetime.now(UTC) - after).total_seconds()) < 60


def test_key_rotation_and_pruning(gateway_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("keys", "rotate") == 0
    assert run("keys", "rotate") == 0
    store = KeyStore(gateway_env)
    store.reload(force=True)
    kids = [k["kid"] for k in store.jwks()["keys"]]
    assert len(kids) == 3  # the first key made by `ensure`, then two rotations
    assert store.active().kid == max(kids)
    # Nothing is old enough to prune: every key may still have live tokens.
    assert run("keys", "prune") == 0
    assert "removed 0" in capsys.readouterr().out
    # Keys replaced longer ago than a token lives are removed, the newest never.
    removed = store.prune(token_lifetime_s=-3600, leeway_s=0)
    assert removed == sorted(kids)[:-1]  # all but the newest
    assert [k["kid"] for k in store.jwks()["keys"]] == [max(kids)]


@pytest.mark.usefixtures("gateway_env")
def test_audit_verify_on_an_empty_log(capsys: pytest.CaptureFixture[str]) -> None:
    code = run("audit", "verify")
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["checked"] == 0


@pytest.mark.usefixtures("gateway_env")
def test_demo_clients_are_created_once_and_printed(capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    in_thread(lambda: asyncio.run(seed.main()))
    first = capsys.readouterr().out
    in_thread(lambda: asyncio.run(seed.main()))
    second = capsys.readouterr().out
    assert first == second  # same clients, same secrets: nothing duplicated or reset
    for client_id, *_ in seed.DEMO_CLIENTS:
        assert client_id in first
    credentials = Path("var/demo-credentials.json")
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"
    assert set(json.loads(credentials.read_text())) == {c[0] for c in seed.DEMO_CLIENTS}


@pytest.mark.usefixtures("gateway_env")
def test_demo_clients_made_earlier_get_the_scopes_they_have_now(
    clean_databases: dict[str, str],
) -> None:
    """A database seeded before the ``subscriptions`` scope existed gets it on the next seed."""
    in_thread(lambda: asyncio.run(seed.main()))

    async def scopes_of(client_id: str, change_to: str | None = None) -> str:
        db = Database(clean_databases["gateway"])
        try:
            async with db.sessions() as session:
                client = await session.scalar(select(Client).where(Client.client_id == client_id))
                assert client is not None
                if change_to is not None:
                    client.scopes = change_to
                    await session.commit()
                return client.scopes
        finally:
            await db.close()

    in_thread(lambda: asyncio.run(scopes_of("usaid-partner", "cooperation:read")))
    in_thread(lambda: asyncio.run(seed.main()))
    scopes = in_thread(lambda: asyncio.run(scopes_of("usaid-partner")))
    assert scopes.split() == ["cooperation:read", "subscriptions"]


@pytest.mark.usefixtures("gateway_env")
def test_demo_clients_are_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    monkeypatch.setenv("GATEWAY_ENVIRONMENT", "production")
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "postgresql+asyncpg://enlace@db/enlace_gateway")
    with pytest.raises(SystemExit, match="production"):
        in_thread(lambda: asyncio.run(seed.main()))
    assert not Path("var/demo-credentials.json").exists()
