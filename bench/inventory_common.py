"""What the inventory benches share: a PostgreSQL database of their own (created, migrated
with Alembic, dropped), and realistic inventory rows generated fast (COPY)."""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from services.inventory.pcb.models import PcbItem
from services.inventory.registry.rules import DEPARTMENTS, ruc_check_digit

ROOT = Path(__file__).resolve().parent.parent
ORGS = [f"ORG{i:02d}" for i in range(20)]


def bench_arguments(doc: str | None) -> argparse.ArgumentParser:
    """The options every inventory bench takes: the server, and whether to keep its
    database."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres-url",
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
        help="a database on the server, used only to create and drop the bench's own",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser


def plain_dsn(url: str, database: str | None = None) -> str:
    """An asyncpg DSN for ``url`` (SQLAlchemy form), optionally for another database."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def sqlalchemy_url(url: str, database: str) -> str:
    """The SQLAlchemy (asyncpg) URL of ``database`` on the server of ``url``."""
    parsed = make_url(url).set(drivername="postgresql+asyncpg", database=database)
    return parsed.render_as_string(hide_password=False)


async def recreate_database(url: str, name: str) -> str:
    """Drop and create database ``name`` on the server ``url`` names; its SQLAlchemy URL."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return sqlalchemy_url(url, name)


async def drop_database(url: str, name: str) -> None:
    """Drop database ``name``."""
    conn = await asyncpg.connect(plain_dsn(url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def migrate(url: str) -> None:
    """``alembic --name inventory upgrade head`` against ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_")}
    env["INVENTORY_DATABASE_URL"] = url
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run(
        [sys.executable, "-m", "alembic", "--name", "inventory", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def ruc(n: int) -> str:
    """A valid company RUC built from ``n``."""
    first_ten = f"20{n:08d}"
    return first_ten + str(ruc_check_digit(first_ten))


NOW = datetime(2025, 1, 15, tzinfo=UTC)
STATUSES = (
    ("in_use", 50),
    ("standby", 10),
    ("out_of_service_stored", 15),
    ("decontaminated", 5),
    ("shipped_for_disposal", 5),
    ("eliminated", 15),
)
DEPARTMENT_CODES = sorted(DEPARTMENTS)


async def load_registry(conn: asyncpg.Connection, *, holders: int, sites_per_holder: int) -> None:
    """Holders (spread over the organisations) and their sites (spread over Peru)."""
    rng = random.Random(1)
    await conn.copy_records_to_table(
        "holders",
        columns=[
            "id",
            "ruc",
            "name",
            "sector",
            "is_public",
            "org_code",
            "created_at",
            "updated_at",
            "version",
        ],
        records=[
            (
                h,
                ruc(h),
                f"Holder {h}",
                "electricity_distribution",
                h % 3 == 0,
                ORGS[h % len(ORGS)],
                NOW,
                NOW,
                1,
            )
            for h in range(1, holders + 1)
        ],
    )
    records = []
    for h in range(1, holders + 1):
        for k in range(sites_per_holder):
            dept = rng.choice(DEPARTMENT_CODES)
            records.append(
                (
                    (h - 1) * sites_per_holder + k + 1,
                    h,
                    f"Site {h}-{k}",
                    "Av. Bench 1",
                    f"{dept}0101",
                    Decimal("-12.000000"),
                    Decimal("-77.000000"),
                    "urban",
                    NOW,
                    NOW,
                    1,
                )
            )
    await conn.copy_records_to_table(
        "sites",
        columns=[
            "id",
            "holder_id",
            "name",
            "address",
            "ubigeo",
            "latitude",
            "longitude",
            "site_type",
            "created_at",
            "updated_at",
            "version",
        ],
        records=records,
    )
    await conn.execute("SELECT setval('holders_id_seq', $1)", holders)
    await conn.execute("SELECT setval('sites_id_seq', $1)", holders * sites_per_holder)


async def add_submission(
    conn: asyncpg.Connection, org: str, year: int, section: str, status: str
) -> int:
    """One submission row; its id."""
    sid: int = await conn.fetchval(
        "INSERT INTO submissions (org_code, year, section, status, revision, created_by, "
        "created_at, updated_at, version, validated_at) VALUES ($1, $2, $3, $4, 1, 'bench', "
        "$5, $5, 1, $6) RETURNING id",
        org,
        year,
        section,
        status,
        NOW,
        NOW if status == "validated" else None,
    )
    return sid


# The columns of ``pcb_items`` (the id comes from its sequence), read from the model.
ITEM_COLUMNS = [c.key for c in PcbItem.__table__.columns if c.key != "id"]


def item_record(values: dict[str, Any]) -> tuple[Any, ...]:
    """An item's values as a COPY record of ``ITEM_COLUMNS`` (a column not given is null)."""
    return tuple(values.get(c) for c in ITEM_COLUMNS)


def _concentration(rng: random.Random) -> tuple[str, Decimal | None, str | None]:
    roll = rng.random()
    if roll < 0.55:
        band = rng.random()
        if band < 0.70:
            value = rng.uniform(0, 49.9)
        elif band < 0.85:
            value = rng.uniform(50, 500)
        elif band < 0.95:
            value = rng.uniform(500, 100_000)
        else:
            value = rng.uniform(100_000, 900_000)
        return "measured", Decimal(f"{value:.3f}"), rng.choice(("gc", "gc", "nameplate"))
    if roll < 0.65:
        return "above", Decimal(rng.choice(("50", "500"))), "screening"
    if roll < 0.75:
        return "below", Decimal("50"), "screening"
    return "unknown", None, None


def item_records(
    n: int,
    *,
    holders: int,
    sites_per_holder: int,
    submissions: dict[str, int],
    seed: int,
    serial_prefix: str = "SN",
) -> Iterator[tuple[Any, ...]]:
    """``n`` PCB items with a realistic mix of classes, statuses and sizes; each holder's
    items go to the submission of the holder's organisation."""
    rng = random.Random(seed)
    weights = [w for _, w in STATUSES]
    statuses = [s for s, _ in STATUSES]
    for i in range(n):
        holder = rng.randint(1, holders)
        site = (holder - 1) * sites_per_holder + rng.randint(1, sites_per_holder)
        kind, value, source = _concentration(rng)
        capacitor = rng.random() < 0.25
        volume = Decimal(f"{rng.uniform(0.5, 40) if capacitor else rng.uniform(40, 2500):.3f}")
        askarel = value is not None and value > 100_000
        fluid_kind = "askarel" if askarel else ("mineral_oil" if rng.random() < 0.9 else None)
        fluid_mass = (
            (volume * Decimal("0.88")).quantize(Decimal("0.001")) if rng.random() < 0.5 else None
        )
        org = ORGS[holder % len(ORGS)]
        yield item_record(
            {
                "holder_id": holder,
                "site_id": site,
                "equipment_type": "capacitor" if capacitor else "transformer",
                "manufacturer": "ACME",
                "serial_number": f"{serial_prefix}-{seed}-{i}",
                "country_of_origin": "US",
                "year_manufactured": rng.randint(1960, 2015) if rng.random() > 0.05 else None,
                "fluid_trade_name": "Askarel" if askarel else "mineral oil",
                "fluid_volume_l": volume,
                "fluid_mass_kg": fluid_mass,
                "total_mass_kg": (volume * Decimal("4")).quantize(Decimal("0.001")),
                "labelled": rng.random() < 0.6,
                "leaking": False,
                "in_populated_area": rng.random() < 0.1,
                "in_food_feed_area": rng.random() < 0.02,
                "status": rng.choices(statuses, weights)[0],
                "status_since": date(2024, 1, 1),
                "org_code": org,
                "submission_id": submissions[org],
                "fluid_kind": fluid_kind,
                "department_code": f"{(site % 25) + 1:02d}",
                "conc_kind": kind,
                "conc_value_mg_per_kg": value,
                "conc_source": source,
                "created_at": NOW,
                "updated_at": NOW,
                "version": 1,
            }
        )


async def copy_items(
    conn: asyncpg.Connection,
    records: Sequence[tuple[Any, ...]] | Iterator[tuple[Any, ...]],
    batch: int = 100_000,
) -> int:
    """COPY items into ``pcb_items`` in batches; how many."""
    total = 0
    chunk: list[tuple[Any, ...]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == batch:
            await conn.copy_records_to_table("pcb_items", columns=ITEM_COLUMNS, records=chunk)
            total += len(chunk)
            chunk = []
    if chunk:
        await conn.copy_records_to_table("pcb_items", columns=ITEM_COLUMNS, records=chunk)
        total += len(chunk)
    return total
