"""``python -m bench.inventory_summary``: time the national PCB summary over 1,000,000 items
on PostgreSQL (goal, PERFORMANCE.md: < 300 ms).

Creates its own database on the server (``enlace_bench_inventory_summary``), migrates it
with Alembic, generates holders, sites, submissions and items with COPY (the summary year
holds ``--items`` validated items of 20 organisations; an older year and a draft add 7 %
that must not count), vacuums, then times the summary as the service computes it (SQL
aggregation plus assembly) and through the public HTTP route (in-process ASGI), and prints
the EXPLAIN ANALYZE of the aggregate. Drops the database unless ``--keep``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import date
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from pydantic import BaseModel
from sqlalchemy import Select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from bench.inventory_common import (
    ORGS,
    add_submission,
    bench_arguments,
    copy_items,
    drop_database,
    item_records,
    load_registry,
    migrate,
    plain_dsn,
    recreate_database,
    sqlalchemy_url,
)
from services.inventory.app import create_app
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.schedules import load_schedules, load_thresholds
from services.inventory.reports import arithmetic, cells, queries, service
from services.inventory.reports.queries import Scope
from services.inventory.reports.schemas import NationalSummaryOut, PcbSummaryOut
from services.inventory.settings import InventorySettings
from services.inventory.submissions.rules import Section
from shared.db import Database
from shared.tokens import StaticKeys

DATABASE = "enlace_bench_inventory_summary"
YEAR = 2024
AS_OF = date(2025, 6, 30)


async def generate(url: str, items: int) -> None:
    """Registry, submissions and items, by COPY."""
    holders, sites_per_holder = 5_000, 4
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await load_registry(conn, holders=holders, sites_per_holder=sites_per_holder)
        current = {org: await add_submission(conn, org, YEAR, "pcb", "validated") for org in ORGS}
        older = {org: await add_submission(conn, org, YEAR - 1, "pcb", "validated") for org in ORGS}
        drafts = {org: await add_submission(conn, org, YEAR + 1, "pcb", "draft") for org in ORGS}
        started = time.perf_counter()
        n = 0
        for count, submissions, seed in (
            (items, current, 1),
            (items // 20, older, 2),
            (items // 50, drafts, 3),
        ):
            records = item_records(
                count,
                holders=holders,
                sites_per_holder=sites_per_holder,
                submissions=submissions,
                seed=seed,
            )
            n += await copy_items(conn, records)
        print(f"generated {n:,} items in {time.perf_counter() - started:.1f} s (COPY)")
        started = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) pcb_items")
        await conn.execute("VACUUM (ANALYZE) submissions")
        print(f"vacuum analyze: {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()
    # What validation does for each submission: count its items once, in SQL.
    db = Database(url, pool_size=1)
    try:
        async with db.sessions() as session:
            schedules = await load_schedules(session)
            densities = await load_densities(session)
            validated = list(await session.scalars(Scope().ids(Section.PCB)))
            started = time.perf_counter()
            await cells.refresh(session, validated, schedules, densities)
            await session.commit()
            print(
                f"summary cells of {len(validated)} validated submissions: "
                f"{time.perf_counter() - started:.1f} s (done once, when each is validated)"
            )
    finally:
        await db.close()


def _stats(label: str, timings: list[float]) -> None:
    ms = sorted(t * 1000 for t in timings)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(
        f"{label:44} min {ms[0]:7.1f} ms   median {statistics.median(ms):7.1f} ms   "
        f"p95 {p95:7.1f} ms   ({len(ms)} runs)"
    )


def _literal_sql(stmt: Select[Any]) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


async def _live(session: AsyncSession) -> BaseModel:
    """The PCB aggregate straight from the items (what cells save)."""
    await queries.tune_for_aggregates(session)
    thresholds, _ = await load_thresholds(session)
    densities = await load_densities(session)
    groups = await queries.pcb_groups(
        session, Scope(year=YEAR), thresholds, densities, use_cells=False
    )
    return PcbSummaryOut(**arithmetic.pcb_summary(groups, thresholds, AS_OF, densities))


async def _report(session: AsyncSession, name: str) -> BaseModel:
    if name == "service":
        return await service.national_summary(session, Scope(year=YEAR), AS_OF)
    if name == "live":
        return await _live(session)
    if name == "department":
        return await service.by_department(session, Scope(year=YEAR), AS_OF)
    return await service.time_series(session, from_year=None, to_year=None, as_of=AS_OF)


async def measure(url: str, runs: int) -> float:
    """Time the summary every way; the median of the service timing, in ms."""
    db = Database(url, pool_size=2)
    try:
        async with db.sessions() as session:
            await queries.tune_for_aggregates(session)
            thresholds, _ = await load_thresholds(session)
            densities = await load_densities(session)
            ids = list(await session.scalars(Scope(year=YEAR).ids(Section.PCB)))
            stmt = cells.item_groups_statement(ids, thresholds, densities)
            cells_stmt = cells.cell_groups_statement(ids, cells.basis(thresholds, densities))
            cells_sql, sql = (_literal_sql(s) for s in (cells_stmt, stmt))
            for title, statement in (
                ("the national PCB aggregate (summary cells)", cells_sql),
                ("the same aggregate live from the items (drafts, stale cells)", sql),
            ):
                await session.execute(text("SET LOCAL enable_sort = off"))
                plan = await session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + statement))
                print(f"\nEXPLAIN ANALYZE of {title}:")
                for (line,) in plan.all():
                    print("  " + line[:160])
        timings: dict[str, list[float]] = {
            "service": [],
            "live": [],
            "department": [],
            "series": [],
        }
        for run in range(runs + 1):
            for name in timings:
                async with db.sessions() as session:
                    started = time.perf_counter()
                    report = await _report(session, name)
                    elapsed = time.perf_counter() - started
                if run:  # the first run warms the caches
                    timings[name].append(elapsed)
                if isinstance(report, NationalSummaryOut) and run == 1:
                    pcb = report.pcb
                    print(
                        f"\nsummary {YEAR}: {pcb.items:,} items, {pcb.total_mass_t} t, "
                        f"{pcb.pcb_items:,} PCB items, share eliminated {pcb.share_eliminated}, "
                        f"use deadline due {pcb.deadlines.use.items_due:,}"
                    )
    finally:
        await db.close()
    app = create_app(
        InventorySettings(database_url=url, access_log=False), key_source=StaticKeys({"keys": []})
    )
    http: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://inventory") as client:
            for run in range(runs + 1):
                started = time.perf_counter()
                response = await client.get(
                    f"/v1/public/national-summary?year={YEAR}&as_of={AS_OF}"
                )
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                if run:
                    http.append(elapsed)
    print()
    _stats("national summary (service: SQL + assembly)", timings["service"])
    _stats("national summary (GET /v1/public/..., ASGI)", http)
    _stats("PCB aggregate live from the items (no cells)", timings["live"])
    _stats("by department", timings["department"])
    _stats("time series (2 years)", timings["series"])
    return statistics.median(timings["service"]) * 1000


async def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--reuse", action="store_true", help="measure a database kept by an earlier --keep run"
    )
    args = parser.parse_args()
    if args.reuse:
        url = sqlalchemy_url(args.postgres_url, DATABASE)
    else:
        url = await recreate_database(args.postgres_url, DATABASE)
    try:
        if not args.reuse:
            migrate(url)
            await generate(url, args.items)
        median_ms = await measure(url, args.runs)
        verdict = "meets" if median_ms < 300 else "MISSES"
        print(f"\ngoal < 300 ms for the national summary: {median_ms:.0f} ms median, {verdict} it")
    finally:
        if not args.keep:
            await drop_database(args.postgres_url, DATABASE)


if __name__ == "__main__":
    asyncio.run(main())
