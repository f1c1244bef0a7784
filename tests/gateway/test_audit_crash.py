"""The acceptance check of issue 9, item 12: a gateway process killed with ``kill -9`` under
32 concurrent connections has an audit entry for every request it answered, and the next
verification names the process that crashed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import select

from services.gateway.audit_verify import crash_report, verify_chain
from services.gateway.models import AuditEntry
from shared.db import Database
from tests.conftest import ROOT, migrate
from tests.support import closed_port

CONNECTIONS = 32
# Answered by the gateway itself, so no backend is needed: health, a refusal, a 404.
PATHS = ("/health/live", "/inventory/v1/holders", "/nowhere")
HEARTBEAT_S = 0.2


@contextmanager
def gateway_process(tmp_path: Path, url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m services.gateway`` on ``port``, stopped (SIGKILL at worst) on exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        PYTHONPATH=str(ROOT),
        GATEWAY_DATABASE_URL=url,
        GATEWAY_PORT=str(port),
        GATEWAY_KEYS_DIR=str(tmp_path / "keys"),
        GATEWAY_AUDIT_SPOOL_DIR=str(tmp_path / "spool"),
        GATEWAY_AUDIT_HEARTBEAT_S=str(HEARTBEAT_S),
        GATEWAY_ACCESS_LOG="false",
        GATEWAY_INVENTORY_URL=f"http://127.0.0.1:{closed_port()}",
        GATEWAY_COOPERATION_URL=f"http://127.0.0.1:{closed_port()}",
    )
    with (tmp_path / f"gateway-{port}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.gateway"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


async def ready(base_url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(600):
            assert process.poll() is None, "the gateway exited during start-up"
            try:
                if (await client.get("/health/live")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the gateway did not start within 60 s")


async def load_then_kill(base_url: str, process: subprocess.Popen[bytes]) -> list[str]:
    """32 connections sending requests until the process is killed (once 400 were
    answered); the request ids of every answer received in full."""
    answered: list[str] = []
    killed = asyncio.Event()
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)

    async def worker(client: httpx.AsyncClient, w: int) -> None:
        for n in range(1_000_000):
            request_id = f"crash-{w}-{n}-{uuid.uuid4().hex[:8]}"
            try:
                await client.get(PATHS[n % len(PATHS)], headers={"X-Request-ID": request_id})
            except httpx.TransportError:
                if killed.is_set():
                    return
                continue
            answered.append(request_id)
            if len(answered) >= 400 and not killed.is_set():
                killed.set()
                os.kill(process.pid, signal.SIGKILL)

    timeout = httpx.Timeout(30.0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        await asyncio.wait_for(
            asyncio.gather(*(worker(client, w) for w in range(CONNECTIONS))), timeout=300
        )
    return answered


async def test_kill_9_under_load_loses_no_answered_request(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    migrate("gateway", url)
    port = closed_port()
    base_url = f"http://127.0.0.1:{port}"
    with gateway_process(tmp_path, url, port) as first:
        await ready(base_url, first)
        answered = await load_then_kill(base_url, first)
        assert first.wait(timeout=30) == -signal.SIGKILL
    db = Database(url)
    try:
        async with db.sessions() as session:
            audited = set(await session.scalars(select(AuditEntry.request_id)))
        missing = [r for r in answered if r not in audited]
        assert len(answered) >= 400
        assert missing == [], f"{len(missing)} of {len(answered)} answered requests unaudited"

        # The next process starts on the same database and spool, and stops cleanly.
        with gateway_process(tmp_path, url, port) as second:
            await ready(base_url, second)
            await asyncio.sleep(4 * HEARTBEAT_S)  # the killed one's heartbeat has lapsed
            report = await crash_report(
                db, True, own_session=None, heartbeat_s=HEARTBEAT_S, spool_dir=tmp_path / "spool"
            )
            second.send_signal(signal.SIGTERM)
            # uvicorn shuts down gracefully, then re-raises the signal it caught.
            assert second.wait(timeout=60) in (0, -signal.SIGTERM)
        assert [s["pid"] for s in report.crashed_sessions] == [first.pid]
        assert report.unanswered_may_be_missing
        assert not report.answered_may_be_missing
        chain = await verify_chain(db, full=True)
        assert chain.ok, chain
        after = await crash_report(
            db, True, own_session=None, heartbeat_s=HEARTBEAT_S, spool_dir=tmp_path / "spool"
        )
        assert [s["pid"] for s in after.crashed_sessions] == [first.pid]  # the second stopped
    finally:
        await db.close()
