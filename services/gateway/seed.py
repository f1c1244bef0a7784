"""``python -m services.gateway.seed``: demo clients, one per role, for a local run.

Secrets are shown once, so the demo credentials are kept in ``var/demo-credentials.json``
(mode 0600, never committed) and printed again on later runs, each checked against the
database first: a saved secret that no longer matches (another database, a rotated secret)
is reissued, so what is printed always works. Idempotent.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from services.gateway import clients
from services.gateway.keys import KeyStore
from services.gateway.settings import GatewaySettings
from shared.db import Database

CREDENTIALS = Path("var") / "demo-credentials.json"

DEMO_CLIENTS = [
    (
        "minam-reviewer",
        "MINAM national focal point (demo)",
        "MINAM",
        "inventory:read inventory:review cooperation:read cooperation:write subscriptions",
    ),
    (
        "minem-submitter",
        "MINEM DGAAE PCB system (demo)",
        "MINEM",
        "inventory:read inventory:write cooperation:read cooperation:write",
    ),
    (
        "oefa-inspector",
        "OEFA inspection system (demo)",
        "OEFA",
        "inventory:read cooperation:read cooperation:write",
    ),
    ("usaid-partner", "USAID activity sync (demo)", "USAID", "cooperation:read subscriptions"),
    ("enlace-admin", "Enlace administrator (demo)", "MINAM", "admin"),
    # The cooperation service itself: reads inventory metrics for bound indicators, and
    # subscribes to the inventory's validations to refresh them.
    (
        "cooperation-service",
        "Enlace cooperation service (inventory-fed indicators)",
        "MINAM",
        "inventory:read subscriptions",
    ),
]
# Clients of the services themselves: ``manage.py run`` passes their secrets to the service
# (from the credentials file); they are never printed.
SERVICE_CLIENTS = frozenset({"cooperation-service"})


def _load() -> dict[str, str]:
    if CREDENTIALS.exists():
        data: dict[str, str] = json.loads(CREDENTIALS.read_text())
        return data
    return {}


def _save(credentials: dict[str, str]) -> None:
    CREDENTIALS.parent.mkdir(exist_ok=True)
    fd = os.open(CREDENTIALS, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(credentials, handle, indent=2)


async def main() -> None:
    """Create missing demo clients (and a signing key) and print every demo credential."""
    settings = GatewaySettings()
    if settings.production:
        raise SystemExit(
            "gateway: GATEWAY_ENVIRONMENT is production; demo clients are for local runs only."
        )
    hasher = clients.SecretHasher(settings)
    KeyStore(settings.keys_dir).ensure()
    credentials = _load()
    reissued: list[str] = []
    db = Database(settings.database_url)
    try:
        async with db.sessions() as session:
            for client_id, name, org, scopes in DEMO_CLIENTS:
                existing = await clients.get_client(session, client_id)
                if existing is None:
                    _, secret = await clients.create_client(
                        session,
                        hasher,
                        client_id=client_id,
                        name=name,
                        org_code=org,
                        scopes=scopes.split(),
                    )
                    credentials[client_id] = secret
                elif client_id not in credentials or not await hasher.verify(
                    existing.secret_hash, credentials[client_id]
                ):
                    # The secret was lost (var/ cleaned), or the file is another database's
                    # (GATEWAY_DATABASE_URL changed): give the demo client a new one.
                    credentials[client_id] = await clients.rotate_secret(session, hasher, existing)
                    reissued.append(client_id)
                if existing is not None and existing.scopes != scopes:
                    # A demo client made by an older version gets the scopes it has now
                    # (e.g. ``subscriptions``).
                    existing.scopes = scopes
            await session.commit()
    finally:
        await db.close()
    _save(credentials)
    if reissued:
        print(
            "gateway: the saved secrets of "
            + ", ".join(reissued)
            + " did not match this database; new ones were issued."
        )
    print("gateway: demo clients (client_id / client_secret, scopes):")
    for client_id, _, org, scopes in DEMO_CLIENTS:
        if client_id in SERVICE_CLIENTS:  # a service's own: passed to it, never shown
            print(f"  {client_id:16} (secret in {CREDENTIALS})  [{org}: {scopes}]")
        else:
            print(f"  {client_id:16} {credentials[client_id]}  [{org}: {scopes}]")


if __name__ == "__main__":
    asyncio.run(main())
