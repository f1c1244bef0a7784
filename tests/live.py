"""A real running suite for tests that talk to it as a user's program would: the three
processes started with ``python -m services.<name>`` on free ports of 127.0.0.1, each on a
new SQLite database migrated with Alembic and loaded with the demo data, as ``manage.py run``
does (the demo credentials kept in the suite's own folder)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.webhooks.signing import new_secret
from tests.conftest import ROOT, migrate
from tests.support import closed_port

NAMES = ("inventory", "cooperation", "gateway")


SERVICE_CLIENT = "cooperation-service"
# What the inventory signs the cooperation service's events with (this test suite's own).
EVENTS_SECRET = new_secret()


@dataclass(frozen=True)
class Suite:
    url: str
    credentials: dict[str, str]
    folder: Path


def _env(folder: Path, ports: dict[str, int]) -> dict[str, str]:
    prefixes = (*(f"{n.upper()}_" for n in NAMES), "ENLACE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    env["PYTHONPATH"] = str(ROOT)
    for name in NAMES:
        upper = name.upper()
        env[f"{upper}_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder / f'{name}.db'}"
        env[f"{upper}_PORT"] = str(ports[name])
        env[f"{upper}_ACCESS_LOG"] = "false"
    for name in ("inventory", "cooperation"):
        upper = name.upper()
        env[f"GATEWAY_{upper}_URL"] = f"http://127.0.0.1:{ports[name]}"
        env[f"{upper}_TRUSTED_PROXIES"] = "127.0.0.1"
        env[f"{upper}_JWKS_URL"] = f"{gateway}/.well-known/jwks.json"
        env[f"{upper}_WEBHOOK_ALLOW_HTTP"] = "true"
        env[f"{upper}_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    env.update(
        GATEWAY_KEYS_DIR=str(folder / "keys"),
        GATEWAY_AUDIT_SPOOL_DIR=str(folder / "spool"),
        GATEWAY_PUBLIC_URL=gateway,
        # Secrets hashed at the lowest cost: the tests log in often.
        GATEWAY_ARGON2_TIME_COST="1",
        GATEWAY_ARGON2_MEMORY_KIB="8",
        GATEWAY_ARGON2_PARALLELISM="1",
    )
    return env


def _wait_ready(url: str, processes: list[subprocess.Popen[bytes]], log: Path) -> None:
    deadline = time.monotonic() + 90
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in processes):
                raise AssertionError("a process of the suite exited:\n" + log.read_text()[-4000:])
            try:
                if client.get(f"{url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise AssertionError("the suite did not become healthy in 90 s:\n" + log.read_text()[-4000:])


@contextmanager
def running_suite(folder: Path) -> Iterator[Suite]:
    """The suite running on new databases in ``folder``, stopped on exit."""
    ports = {name: closed_port() for name in NAMES}
    env = _env(folder, ports)
    for name in NAMES:
        migrate(name, env[f"{name.upper()}_DATABASE_URL"])
    log = folder / "suite.log"
    with log.open("ab") as sink:
        seeds = [  # one database each: they run side by side
            subprocess.Popen(
                [sys.executable, "-m", f"services.{name}.seed"],
                cwd=folder,  # the gateway's seed keeps var/demo-credentials.json here
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
            for name in NAMES
        ]
        if any(seed.wait() for seed in seeds):
            raise AssertionError("a seed failed:\n" + log.read_text()[-4000:])
        # The cooperation service reads the inventory through the gateway as its own client.
        saved = json.loads((folder / "var" / "demo-credentials.json").read_text())
        env.update(
            COOPERATION_INVENTORY_API_URL=f"http://127.0.0.1:{ports['gateway']}",
            COOPERATION_INVENTORY_CLIENT_ID=SERVICE_CLIENT,
            COOPERATION_INVENTORY_CLIENT_SECRET=saved[SERVICE_CLIENT],
            # ...and subscribes itself to the inventory's validations (its own port).
            COOPERATION_INVENTORY_EVENTS_URL=(
                f"http://127.0.0.1:{ports['cooperation']}/v1/inventory-events"
            ),
            COOPERATION_INVENTORY_WEBHOOK_SECRET=EVENTS_SECRET,
        )
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"],
                cwd=ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
            for name in NAMES
        ]
    url = f"http://127.0.0.1:{ports['gateway']}"
    try:
        _wait_ready(url, processes, log)
        credentials = json.loads((folder / "var" / "demo-credentials.json").read_text())
        yield Suite(url, credentials, folder)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
