"""``python -m bench.inventory_import``: rows per second of the bulk import of PCB items on
PostgreSQL, beside a raw COPY of the same rows (goal, PERFORMANCE.md: >= 0.4 x COPY).

Creates its own database (``enlace_bench_inventory_import``), migrates it, starts the
inventory service as its own process (uvicorn, access log off) with a bench signing key,
creates the holders and sites with a small warm-up import, then ``--runs`` times, each
into new submissions:

1. COPYs ``--rows`` item rows into one submission (asyncpg ``copy_records_to_table``: the
   floor, no validation, no natural keys, no history; the records are made beforehand);
2. POSTs the same rows as a CSV file (streamed from disk) to
   ``/v1/submissions/{id}/imports`` of another submission: parsed, validated row by row,
   upserted by natural key, with a status event per new item;
3. POSTs the same file again (every row an update by natural key).

Prints the medians side by side: seconds, rows/s and their ratio to COPY (the goal), and
the CPU per row of the Python side (the COPY client, or the service) and of the
PostgreSQL backends of the bench database (read from /proc: run it on the database's
machine), whose ratio does not depend on how busy the machine is; then the service's peak
memory against the file size.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import functools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy.engine import make_url

from bench._harness import cpu_seconds, median
from bench.inventory_common import (
    ITEM_COLUMNS,
    NOW,
    ROOT,
    add_submission,
    bench_arguments,
    drop_database,
    item_record,
    migrate,
    plain_dsn,
    recreate_database,
    ruc,
)
from services.gateway.keys import KeyStore
from services.gateway.settings import GatewaySettings
from services.inventory.imports.records import Outcome, Place, item_batch
from services.inventory.imports.rows import COLUMNS, parse_row
from shared.tokens import issue_access_token

T = TypeVar("T")
DATABASE = "enlace_bench_inventory_import"
GOAL = 0.4  # import rows/s over raw COPY rows/s (PERFORMANCE.md)
ORG = "ORG00"
HOLDERS, SITES_PER_HOLDER = 1000, 4
STATUSES = ["in_use"] * 6 + [
    "standby",
    "out_of_service_stored",
    "decontaminated",
    "shipped_for_disposal",
]


def rows(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """``n`` item rows over the bench's holders and sites."""
    rng = random.Random(seed)
    for i in range(n):
        holder = rng.randint(1, HOLDERS)
        site = rng.randint(0, SITES_PER_HOLDER - 1)
        capacitor = rng.random() < 0.25
        volume = Decimal(f"{rng.uniform(0.5, 40) if capacitor else rng.uniform(40, 2500):.3f}")
        askarel = rng.random() < 0.1
        yield {
            "holder_ruc": ruc(holder),
            "holder_name": f"Holder {holder}",
            "holder_sector": "electricity_distribution",
            "holder_is_public": "no",
            "site_name": f"Site {holder}-{site}",
            "site_address": "Av. Bench 1",
            "site_ubigeo": f"{(holder + site) % 25 + 1:02d}0101",
            "site_type": "urban",
            "equipment_type": "capacitor" if capacitor else "transformer",
            "manufacturer": rng.choice(["ABB", "Siemens", "Westinghouse", "Delcrosa", "GE"]),
            "serial_number": f"B-{seed}-{i}",
            "country_of_origin": "US",
            "year_manufactured": rng.randint(1960, 2015),
            "power_kva": f"{rng.randint(10, 5000)}",
            "voltage_kv": "10",
            "fluid_trade_name": "Askarel" if askarel else "mineral oil",
            "fluid_volume_l": str(volume),
            "fluid_mass_kg": str((volume * Decimal("0.88")).quantize(Decimal("0.001"))),
            "total_mass_kg": str((volume * 4).quantize(Decimal("0.001"))),
            "labelled": rng.choice(["sí", "no"]),
            "leaking": "no",
            "in_populated_area": rng.choice(["sí", "no"]),
            "in_food_feed_area": "no",
            "status": (status := rng.choice(STATUSES)),
            # A decontaminated item is dated (the import refuses one without its date).
            "status_since": "2024-01-01" if status == "decontaminated" else "",
        }


def write_csv(path: Path, data: Iterator[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        first = next(data)
        unknown = first.keys() - COLUMNS.keys()
        if unknown:
            raise RuntimeError(f"not import columns: {sorted(unknown)}")
        writer = csv.DictWriter(handle, fieldnames=list(first), lineterminator="\r\n")
        writer.writeheader()
        writer.writerow(first)
        writer.writerows(data)


def copy_records(
    data: Iterator[dict[str, Any]],
    submission_id: int,
    ids: dict[str, int],
    sites: dict[tuple[int, str], tuple[int, str]],
) -> list[tuple[Any, ...]]:
    """The same rows as ``pcb_items`` records, made as the import makes them (holder and
    site ids resolved)."""
    placed = []
    for number, raw in enumerate(data, start=2):
        row = parse_row(number, raw)
        holder = ids[row.values["holder_ruc"]]
        site, ubigeo = sites[(holder, row.values["site_name"])]
        placed.append((row, Place(holder, site, ubigeo)))
    batch = item_batch(placed, {}, (submission_id, ORG), Outcome(), NOW)
    return [item_record(r) for r in batch.items.values()]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def upload(
    client: httpx.AsyncClient, path: Path, sid: int, token: str
) -> tuple[float, dict[str, Any]]:
    async def chunks() -> AsyncIterator[bytes]:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 16):
                yield chunk

    started = time.perf_counter()
    response = await client.post(
        f"/v1/submissions/{sid}/imports",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"import failed: {response.status_code} {response.text[:2000]}")
    body: dict[str, Any] = response.json()
    return elapsed, body


@dataclass
class Phase:
    """One measured step: wall time, and CPU time of the Python side (the bench's COPY
    client, or the service) and of the PostgreSQL backends of the bench database."""

    seconds: float
    python_cpu_s: float
    postgres_cpu_s: float


async def _backend_cpu(conn: asyncpg.Connection, database: str) -> dict[int, float]:
    """CPU seconds so far of every backend connected to ``database`` but ``conn``'s own."""
    pids = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        database,
    )
    found = {}
    for (pid,) in pids:
        with contextlib.suppress(OSError, ValueError):
            found[pid] = cpu_seconds(pid)
    return found


async def measured(
    monitor: asyncpg.Connection,
    database: str,
    python_cpu: Callable[[], float],
    step: Awaitable[T],
) -> tuple[Phase, T]:
    """Run ``step``; its wall time and CPU times. PostgreSQL's is read from /proc (the bench
    runs on the database's machine), 0 when it cannot be read."""
    before, python_before = await _backend_cpu(monitor, database), python_cpu()
    started = time.perf_counter()
    result = await step
    seconds = time.perf_counter() - started
    python_s = python_cpu() - python_before
    after = await _backend_cpu(monitor, database)
    postgres_s = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
    return Phase(seconds, python_s, postgres_s), result


def warmup_rows() -> Iterator[dict[str, Any]]:
    """One row per holder and site of the bench: the import creates them all."""
    places = ((h, s) for h in range(1, HOLDERS + 1) for s in range(SITES_PER_HOLDER))
    for (h, s), r in zip(places, rows(HOLDERS * SITES_PER_HOLDER, seed=9), strict=True):
        yield {
            **r,
            "site_name": f"Site {h}-{s}",
            "holder_ruc": ruc(h),
            "holder_name": f"Holder {h}",
            "site_ubigeo": f"{(h + s) % 25 + 1:02d}0101",
            "serial_number": f"W-{h}-{s}",
        }


def start_service(url: str, port: int, keys: KeyStore) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "INVENTORY_DATABASE_URL": url,
            "INVENTORY_PORT": str(port),
            "INVENTORY_ACCESS_LOG": "false",
            "INVENTORY_LOG_LEVEL": "WARNING",
            "INVENTORY_JWKS_JSON": json.dumps(keys.jwks()),
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "services.inventory"], cwd=ROOT, env=env, start_new_session=True
    )


def bench_token(keys: KeyStore) -> str:
    token, _ = issue_access_token(
        keys.active(),
        issuer=GatewaySettings.model_fields["token_issuer"].default,
        audience=GatewaySettings.model_fields["token_audience"].default,
        client_id="bench-importer",
        org=ORG,
        scopes=["inventory:read", "inventory:write"],
        lifetime_s=3600,
    )
    return token


async def floor_records(
    conn: asyncpg.Connection, n: int, submission_id: int
) -> list[tuple[Any, ...]]:
    """The COPY records of the bench's rows for ``submission_id``."""
    ids = dict(await conn.fetch("SELECT ruc, id FROM holders"))
    sites = {
        (h, name): (sid, ub)
        for h, name, sid, ub in await conn.fetch("SELECT holder_id, name, id, ubigeo FROM sites")
    }
    return copy_records(rows(n, seed=1), submission_id, ids, sites)


async def run(url: str, n: int, runs: int, tmp: Path) -> dict[str, list[Phase]]:
    """``runs`` rounds of COPY, import and re-import, each into new submissions."""
    keys = KeyStore(tmp / "keys")
    keys.ensure()
    token = bench_token(keys)
    database = make_url(url).database or ""
    dsn = plain_dsn(url)
    conn = await asyncpg.connect(dsn)
    try:
        warmup_sid = await add_submission(conn, ORG, 2000, "pcb", "draft")
        pairs = [
            (
                await add_submission(conn, ORG, 2001 + 2 * k, "pcb", "draft"),
                await add_submission(conn, ORG, 2002 + 2 * k, "pcb", "draft"),
            )
            for k in range(runs)
        ]
    finally:
        await conn.close()
    warmup = tmp / "warmup.csv"
    write_csv(warmup, warmup_rows())
    data_csv = tmp / "items.csv"
    write_csv(data_csv, rows(n, seed=1))
    port = _free_port()
    server = start_service(url, port, keys)
    phases: dict[str, list[Phase]] = {"copy": [], "import": [], "again": []}
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", trust_env=False
        ) as client:
            for _ in range(300):
                try:
                    if (await client.get("/health/live")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            _, report = await upload(client, warmup, warmup_sid, token)
            print(f"warm-up: {report['holders_created']} holders, {report['sites_created']} sites")
            rss_before = _peak_rss_mb(server.pid)
            monitor = await asyncpg.connect(dsn)
            conn = await asyncpg.connect(dsn)
            service_cpu = functools.partial(cpu_seconds, server.pid)
            try:
                for k, (copy_sid, import_sid) in enumerate(pairs, start=1):
                    records = await floor_records(conn, n, copy_sid)
                    phase, _ = await measured(
                        monitor,
                        database,
                        time.process_time,
                        conn.copy_records_to_table(
                            "pcb_items", columns=ITEM_COLUMNS, records=records
                        ),
                    )
                    del records
                    phases["copy"].append(phase)
                    phase, (_, report) = await measured(
                        monitor, database, service_cpu, upload(client, data_csv, import_sid, token)
                    )
                    if report["items_created"] != n:
                        raise RuntimeError(f"the import did not create every row: {report}")
                    phases["import"].append(phase)
                    phase, (_, again) = await measured(
                        monitor, database, service_cpu, upload(client, data_csv, import_sid, token)
                    )
                    if again["items_updated"] != n or again["items_created"] != 0:
                        raise RuntimeError(f"re-import did not update every row: {again}")
                    phases["again"].append(phase)
                    print(
                        f"run {k}: "
                        + ", ".join(f"{name} {p[-1].seconds:.2f} s" for name, p in phases.items())
                        + f" (load {os.getloadavg()[0]:.1f})",
                        flush=True,
                    )
            finally:
                await conn.close()
                await monitor.close()
            rss_after = _peak_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    print(
        f"service peak RSS: {rss_before:.0f} MB before the imports, {rss_after:.0f} MB after "
        f"(file {data_csv.stat().st_size / 1e6:.0f} MB: spooled to disk, read row by row)"
    )
    return phases


def report(n: int, phases: dict[str, list[Phase]]) -> None:
    """The table (medians over the runs) and the goal line."""
    seconds = {name: median([p.seconds for p in ps]) for name, ps in phases.items()}
    python = {name: median([p.python_cpu_s for p in ps]) for name, ps in phases.items()}
    postgres = {name: median([p.postgres_cpu_s for p in ps]) for name, ps in phases.items()}
    labels = {
        "copy": "raw COPY (asyncpg, no checks)",
        "import": "import, new items (HTTP, CSV)",
        "again": "import again, all updates",
    }
    runs = len(phases["copy"])
    print(f"\n{n:,} PCB item rows, median of {runs} run(s); load average {_load()}")
    print(
        f"{'':32}{'seconds':>9}{'rows/s':>10}{'x COPY':>8}"
        f"{'python us/row':>15}{'postgres us/row':>17}{'CPU x COPY':>12}"
    )
    copy_rate = n / seconds["copy"]
    copy_cpu = python["copy"] + postgres["copy"]
    for name, label in labels.items():
        rate = n / seconds[name]
        cpu = python[name] + postgres[name]
        print(
            f"{label:32}{seconds[name]:9.2f}{rate:10,.0f}{rate / copy_rate:8.2f}"
            f"{python[name] * 1e6 / n:15.1f}{postgres[name] * 1e6 / n:17.1f}"
            f"{copy_cpu / cpu if cpu else float('nan'):12.2f}"
        )
    ratio = seconds["copy"] / seconds["import"]
    verdict = "met" if ratio >= GOAL else "not met"
    print(
        f"\nimport / raw COPY = {ratio:.2f} (goal >= {GOAL} x COPY: {verdict}); "
        f"CPU, COPY / import = {copy_cpu / (python['import'] + postgres['import']):.2f}"
    )


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


async def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="rounds of COPY, import, re-import")
    args = parser.parse_args()
    print(f"load average before: {_load()}")
    url = await recreate_database(args.postgres_url, DATABASE)
    try:
        migrate(url)
        with tempfile.TemporaryDirectory(prefix="enlace-import-") as tmp:
            phases = await run(url, args.rows, args.runs, Path(tmp))
        report(args.rows, phases)
    finally:
        if not args.keep:
            await drop_database(args.postgres_url, DATABASE)


if __name__ == "__main__":
    asyncio.run(main())
