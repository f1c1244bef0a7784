"""``python -m services.gateway.cli``: clients, signing keys and the audit chain.

    clients create <client_id> --name N --org ORG --scopes "a b" [--rate-limit N]
    clients list
    clients disable <client_id> | clients enable <client_id>
    clients rotate-secret <client_id>
    keys rotate | keys prune | keys list
    audit verify [--full]

Uses the gateway's settings (GATEWAY_DATABASE_URL, GATEWAY_KEYS_DIR, ...). Secrets are
printed once, to stdout, and never logged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import audit_verify, clients
from services.gateway.keys import KeyStore
from services.gateway.settings import GatewaySettings
from shared.db import Database


async def _with_session(fn: Callable[[AsyncSession], Awaitable[int]]) -> int:
    db = Database(GatewaySettings().database_url)
    try:
        async with db.sessions() as session:
            code = await fn(session)
            await session.commit()
            return code
    finally:
        await db.close()


def _client_commands(args: argparse.Namespace) -> int:
    async def run(session: AsyncSession) -> int:
        if args.action == "create":
            try:
                client, secret = await clients.create_client(
                    session,
                    clients.SecretHasher(GatewaySettings()),
                    client_id=args.client_id,
                    name=args.name or args.client_id,
                    org_code=args.org,
                    scopes=args.scopes.split(),
                    rate_limit_per_minute=args.rate_limit,
                )
            except clients.ClientError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            print(json.dumps({"client_id": client.client_id, "client_secret": secret}))
            return 0
        if args.action == "list":
            for c in await clients.list_clients(session):
                state = "disabled" if c.disabled else "enabled"
                print(f"{c.client_id}\t{c.org_code}\t{state}\t{c.scopes}")
            return 0
        found = await clients.get_client(session, args.client_id)
        if found is None:
            print(f"error: no client {args.client_id}", file=sys.stderr)
            return 1
        if args.action in ("disable", "enable"):
            await clients.set_disabled(session, found, args.action == "disable")
            print(f"{found.client_id} {args.action}d")
        elif args.action == "revoke-tokens":
            await clients.revoke_issued_tokens(session, found)
            print(f"every token issued to {found.client_id} until now is revoked")
        else:
            secret = await clients.rotate_secret(
                session, clients.SecretHasher(GatewaySettings()), found
            )
            print(json.dumps({"client_id": found.client_id, "client_secret": secret}))
        return 0

    return asyncio.run(_with_session(run))


def _key_commands(args: argparse.Namespace) -> int:
    settings = GatewaySettings()
    keys = KeyStore(settings.keys_dir)
    if args.action == "rotate":
        keys.ensure()
        print(f"new signing key {keys.rotate()} (running gateways use it within a second)")
    elif args.action == "prune":
        removed = keys.prune(
            token_lifetime_s=settings.token_lifetime_s, leeway_s=settings.token_leeway_s
        )
        print(f"removed {len(removed)} retired key(s): {' '.join(removed) or '-'}")
    else:
        keys.reload(force=True)
        for entry in keys.jwks()["keys"]:
            print(entry["kid"], entry["alg"])
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m services.gateway.cli")
    groups = parser.add_subparsers(dest="group", required=True)

    client_parser = groups.add_parser("clients", help="API clients")
    actions = client_parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create")
    create.add_argument("client_id")
    create.add_argument("--name")
    create.add_argument("--org", required=True)
    create.add_argument("--scopes", required=True, help='space-separated, e.g. "inventory:read"')
    create.add_argument("--rate-limit", type=int, default=None, help="requests per minute")
    actions.add_parser("list")
    for action in ("disable", "enable", "rotate-secret", "revoke-tokens"):
        actions.add_parser(action).add_argument("client_id")

    key_parser = groups.add_parser("keys", help="token signing keys")
    key_parser.add_argument("action", choices=["rotate", "prune", "list"])

    audit_parser = groups.add_parser("audit", help="the audit log")
    audit_parser.add_argument("action", choices=["verify"])
    audit_parser.add_argument(
        "--full", action="store_true", help="from the first entry, not the last verified one"
    )

    args = parser.parse_args(argv)
    if args.group == "clients":
        return _client_commands(args)
    if args.group == "keys":
        return _key_commands(args)
    settings = GatewaySettings()
    return asyncio.run(
        audit_verify.verify_command(
            settings.database_url,
            full=args.full,
            spool_dir=settings.audit_spool_dir,
            heartbeat_s=settings.audit_heartbeat_s,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
