"""``python -m bench.inventory_import``: rows per second of the bulk import of PCB items on
PostgreSQL, beside a raw COPY of the same rows (goal, PERFORMANCE.md: >= 0.25 x COPY).

Creates its own database (``enlace_bench_inventory_import``), migrates it, starts the
inventory service as its own process (uvicorn, access log off) with a bench signing key,
creates the holders and sites with a small warm-up import, then:

1. COPYs ``--rows`` item rows into one submission (asyncpg ``copy_records_to_table``: the
   floor, no validation, no natural keys, no history);
2. POSTs the same rows as a CSV file (streamed from disk) to
   ``/v1/submissions/{id}/imports`` of another submission: parsed, validated row by row,
   upserted by natural key, with a status event per new item;
3. POSTs the same file again (every row an update by natural key).

Prints rows/s side by side and the service's peak memory against the file size.
"""

from __future__ import annotations

import asyncio
import csv
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx

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
from services.inventory.imports.records import Outcome, Place, item_batch, stamped
from services.inventory.imports.rows import COLUMNS, parse_row
from shared.tokens import issue_access_token

DATABASE = "enlace_bench_inventory_import"
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
            "status": rng.choice(STATUSES),
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
    batch = item_batch(placed, {}, (submission_id, ORG), Outcome())
    records = stamped(({**i, "conc_kind": "unknown"} for i in batch.items.values()), NOW)
    return [item_record(r) for r in records]


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


async def run(url: str, n: int, tmp: Path) -> None:
    keys = KeyStore(tmp / "keys")
    keys.ensure()
    token, _ = issue_access_token(
        keys.active(),
        issuer=GatewaySettings.model_fields["token_issuer"].default,
        audience=GatewaySettings.model_fields["token_audience"].default,
        client_id="bench-importer",
        org=ORG,
        scopes=["inventory:read", "inventory:write"],
        lifetime_s=3600,
    )
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        warmup_sid = await add_submission(conn, ORG, 2023, "pcb", "draft")
        copy_sid = await add_submission(conn, ORG, 2024, "pcb", "draft")
        import_sid = await add_submission(conn, ORG, 2025, "pcb", "draft")
    finally:
        await conn.close()
    warmup = tmp / "warmup.csv"
    write_csv(
        warmup,
        (
            {
                **r,
                "site_name": f"Site {h}-{s}",
                "holder_ruc": ruc(h),
                "holder_name": f"Holder {h}",
                "site_ubigeo": f"{(h + s) % 25 + 1:02d}0101",
                "serial_number": f"W-{h}-{s}",
            }
            for (h, s), r in zip(
                ((h, s) for h in range(1, HOLDERS + 1) for s in range(SITES_PER_HOLDER)),
                rows(HOLDERS * SITES_PER_HOLDER, seed=9),
                strict=True,
            )
        ),
    )
    data_csv = tmp / "items.csv"
    write_csv(data_csv, rows(n, seed=1))
    size_mb = data_csv.stat().st_size / 1e6
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "INVENTORY_DATABASE_URL": url,
            "INVENTORY_PORT": str(port),
            "INVENTORY_ACCESS_LOG": "false",
            "INVENTORY_LOG_LEVEL": "WARNING",
            "INVENTORY_JWKS_JSON": __import__("json").dumps(keys.jwks()),
        }
    )
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, "-m", "services.inventory"], cwd=ROOT, env=env, start_new_session=True
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", trust_env=False
        ) as client:
            for _ in range(200):
                try:
                    if (await client.get("/health/live")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            _, report = await upload(client, warmup, warmup_sid, token)
            print(f"warm-up: {report['holders_created']} holders, {report['sites_created']} sites")
            rss_before = _peak_rss_mb(server.pid)
            # 1. The floor: COPY of the same rows.
            conn = await asyncpg.connect(plain_dsn(url))
            try:
                ids = dict(await conn.fetch("SELECT ruc, id FROM holders"))
                sites = {
                    (h, name): (sid, ub)
                    for h, name, sid, ub in await conn.fetch(
                        "SELECT holder_id, name, id, ubigeo FROM sites"
                    )
                }
                records = copy_records(rows(n, seed=1), copy_sid, ids, sites)
                started = time.perf_counter()
                await conn.copy_records_to_table("pcb_items", columns=ITEM_COLUMNS, records=records)
                copy_s = time.perf_counter() - started
            finally:
                await conn.close()
            del records
            # 2. The import of the same rows, and 3. the same file again.
            import_s, report = await upload(client, data_csv, import_sid, token)
            assert report["items_created"] == n, report
            again_s, again = await upload(client, data_csv, import_sid, token)
            if again["items_updated"] != n or again["items_created"] != 0:
                raise RuntimeError(f"re-import did not update every row: {again}")
            rss_after = _peak_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    copy_rate, import_rate, again_rate = n / copy_s, n / import_s, n / again_s
    print(f"\n{n:,} PCB item rows, CSV file {size_mb:.1f} MB")
    print(f"{'':38}{'seconds':>10}{'rows/s':>12}{'x COPY':>9}")
    print(f"{'raw COPY (asyncpg, no checks)':38}{copy_s:10.2f}{copy_rate:12,.0f}{1:9.2f}")
    for label, seconds, rate in (
        ("import, new items (HTTP, CSV)", import_s, import_rate),
        ("import again, all updates", again_s, again_rate),
    ):
        print(f"{label:38}{seconds:10.2f}{rate:12,.0f}{rate / copy_rate:9.2f}")
    print(
        f"\nservice peak RSS: {rss_before:.0f} MB before the imports, {rss_after:.0f} MB after "
        f"(file {size_mb:.0f} MB: spooled to disk, read row by row)"
    )
    verdict = "meets" if import_rate >= 0.25 * copy_rate else "MISSES"
    print(f"goal import >= 0.25 x COPY: {import_rate / copy_rate:.2f}, {verdict} it")


async def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    url = await recreate_database(args.postgres_url, DATABASE)
    try:
        migrate(url)
        with tempfile.TemporaryDirectory(prefix="enlace-import-") as tmp:
            await run(url, args.rows, Path(tmp))
    finally:
        if not args.keep:
            await drop_database(args.postgres_url, DATABASE)


if __name__ == "__main__":
    asyncio.run(main())
