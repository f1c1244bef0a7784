"""The demo credentials printed by ``manage.py run`` / ``manage.py credentials`` always work:
each saved secret is checked against the database, and reissued when it does not match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.gateway import clients, seed
from services.gateway.settings import GatewaySettings
from shared.db import Database
from tests.conftest import migrate


async def _valid(url: str, saved: dict[str, str]) -> set[str]:
    """The demo clients whose saved secret the database at ``url`` accepts."""
    settings = GatewaySettings(database_url=url, argon2_time_cost=1, argon2_memory_kib=8)
    hasher = clients.SecretHasher(settings)
    db = Database(url)
    try:
        async with db.sessions() as session:
            return {
                cid
                for cid, secret in saved.items()
                if await clients.authenticate(session, hasher, cid, secret) is not None
            }
    finally:
        await db.close()


async def test_secrets_saved_for_another_database_are_reissued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "KEYS_DIR": str(tmp_path / "keys"),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8",
        "ARGON2_PARALLELISM": "1",
    }.items():
        monkeypatch.setenv(f"GATEWAY_{name}", value)
    first, second = (f"sqlite+aiosqlite:///{tmp_path / n}.db" for n in ("first", "second"))
    every = {c[0] for c in seed.DEMO_CLIENTS}
    for url in (first, second):
        migrate("gateway", url)

    monkeypatch.setenv("GATEWAY_DATABASE_URL", first)
    await seed.main()
    saved = json.loads((tmp_path / "var" / "demo-credentials.json").read_text())
    assert await _valid(first, saved) == every
    await seed.main()  # the same database: nothing reissued
    assert json.loads((tmp_path / "var" / "demo-credentials.json").read_text()) == saved
    assert "did not match" not in capsys.readouterr().out

    # Switch databases: the second one already has the demo clients, with other secrets.
    monkeypatch.setenv("GATEWAY_DATABASE_URL", second)
    (tmp_path / "var" / "demo-credentials.json").rename(tmp_path / "first.json")
    await seed.main()
    (tmp_path / "first.json").replace(tmp_path / "var" / "demo-credentials.json")
    assert await _valid(second, saved) == set()  # the file is the first database's

    await seed.main()
    printed = capsys.readouterr().out
    assert "did not match this database; new ones were issued" in printed
    fixed = json.loads((tmp_path / "var" / "demo-credentials.json").read_text())
    assert await _valid(second, fixed) == every
    for client_id, secret in fixed.items():
        if client_id in seed.SERVICE_CLIENTS:  # passed to its service, never shown
            assert secret not in printed
        else:
            assert f"{client_id:16} {secret}" in printed
