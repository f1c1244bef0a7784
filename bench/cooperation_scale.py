"""``python -m bench.cooperation_scale --postgres-url URL``: the activity matrix at scale.

Creates its own PostgreSQL database (``enlace_bench_<random>_cooperation``, via the
harness's ``Stack``), migrates it with Alembic and seeds it, then generates ``--activities``
activities (default 100,000) with every part IATI exports (participants, areas, sectors,
policy markers, locations, budgets, transactions, results with indicators and periods)
using asyncpg's COPY. Then, against the real service (``python -m services.cooperation``
under uvicorn, pinned like every bench server, a donor's token):

1. keyset pages: the time of one page of ``GET /v1/activities`` (``--limit`` rows, ordered
   by (updated_at, id)) at depths 1, 10, 100 and 1000, the median of ``--repeats``
   sequential requests after a warm-up; the goal is depth 1000 <= 1.3 x depth 1;
2. the full IATI XML export (``GET /v1/iati/activities.xml``) from a freshly started server
   process: its duration and size, and the peak RSS of that process (``VmHWM`` in
   /proc/<pid>/status, i.e. its ru_maxrss); the goal is < 150 MB.

The database is dropped at the end (``--keep`` keeps it and prints its URL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # no stubs; only this bench uses it directly

from bench._harness import Pinning, Stack, free_port, http_get, median
from services.cooperation.activities.codes import DEPARTMENTS
from shared.pagination import encode_cursor
from shared.tokens import generate_private_key_pem, issue_access_token, signing_key

ISSUER = "urn:enlace:gateway"
AUDIENCE = "urn:enlace:api"
CHUNK = 10_000
DONOR = "USAID"
LEADS = ("EPA", "MINAM", "OEFA", "PRODUCE", "SERFOR", "USAID")
FUNDERS = ("EPA", "USAID", "GEF", "UNDP", "DOI")
IMPLEMENTERS = ("OEFA", "MINAM", "MINEM", "PRODUCE", "SERFOR", "UNIDO", "NOAA")
SECTORS = ("41010", "41020", "41030", "41081", "41082", "14050", "31210", "32265")
MARKERS = ("2", "5", "6", "7", "8")
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Ids:
    """Next free id of each table with a serial key."""

    values: dict[str, int]

    def take(self, table: str) -> int:
        value = self.values[table]
        self.values[table] = value + 1
        return value


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


SERIAL_TABLES = (
    "activities",
    "activity_participants",
    "activity_sectors",
    "activity_policy_markers",
    "activity_locations",
    "activity_budgets",
    "activity_transactions",
    "activity_results",
    "result_indicators",
    "indicator_periods",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    "activities": (
        "id", "identifier", "program_id", "reporting_org_id", "lead_org_id", "title_en",
        "title_es", "description_en", "description_es", "status", "planned_start", "planned_end",
        "actual_start", "actual_end", "default_currency", "visibility", "published_at",
        "created_at", "updated_at", "version", "hierarchy",
    ),
    "activity_participants": (
        "id", "activity_id", "organisation_id", "role", "ref", "name", "org_type",
    ),
    "activity_priority_areas": ("activity_id", "priority_area_id"),
    "activity_action_areas": ("activity_id", "action_area_id"),
    "activity_sectors": ("id", "activity_id", "vocabulary", "code", "percentage"),
    "activity_policy_markers": ("id", "activity_id", "vocabulary", "code", "significance"),
    "activity_locations": ("id", "activity_id", "department", "name"),
    "activity_budgets": (
        "id", "activity_id", "type", "status", "period_start", "period_end", "value",
        "currency", "value_date",
    ),
    "activity_transactions": (
        "id", "activity_id", "type", "date", "value", "currency", "value_date", "description",
        "provider_ref", "provider_name", "provider_type", "receiver_ref", "receiver_name",
        "receiver_type",
    ),
    "activity_results": ("id", "activity_id", "type", "title", "description", "aggregation_status"),
    "result_indicators": (
        "id", "result_id", "measure", "title", "ascending", "baseline_year", "baseline_value",
        "baseline_date",
    ),
    "indicator_periods": ("id", "indicator_id", "start", "end", "target", "actual"),
    "activity_changes": (
        "seq", "activity_id", "identifier", "program_id", "kind", "at", "audience_before",
        "audience_after",
    ),
}  # fmt: skip


async def _reference(conn: Any) -> dict[str, Any]:
    orgs = {
        r["code"]: r
        for r in await conn.fetch(
            "SELECT id, code, iati_ref, name_en, iati_type FROM organisations"
        )
    }
    program = await conn.fetchrow("SELECT id FROM work_programs ORDER BY id LIMIT 1")
    areas = await conn.fetch(
        "SELECT p.id AS area, p.code, a.id AS action FROM priority_areas p "
        "JOIN action_areas a ON a.priority_area_id = p.id WHERE p.program_id = $1",
        program["id"],
    )
    ids = {}
    for table in SERIAL_TABLES:
        ids[table] = (await conn.fetchval(f"SELECT coalesce(max(id), 0) FROM {table}")) + 1
    seq = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM activity_changes")
    return {"orgs": orgs, "program": program["id"], "areas": list(areas), "ids": ids, "seq": seq}


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    """An amount with cents (exact decimals, as the money columns hold them)."""
    return Decimal(rng.randrange(low, high)).scaleb(-2)


def _rows(
    ref: dict[str, Any], first: int, count: int, ids: Ids, rng: random.Random, clock: datetime
) -> dict[str, list[tuple[Any, ...]]]:
    """``count`` activities (and all their parts) as COPY records, table by table."""
    out: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
    orgs = ref["orgs"]
    for n in range(first, first + count):
        lead = orgs[LEADS[n % len(LEADS)]]
        activity_id = ids.take("activities")
        stamp = clock + timedelta(microseconds=n)
        start = date(2015 + n % 8, 1 + n % 12, 1)
        end = start + timedelta(days=365 + n % 700)
        visibility = "public" if n % 20 < 16 else "partners" if n % 20 < 19 else "participants"
        funder = orgs[FUNDERS[n % len(FUNDERS)]]
        implementer = orgs[IMPLEMENTERS[n % len(IMPLEMENTERS)]]
        identifier = f"{lead['iati_ref']}-BENCH-{n:06d}"
        status = "2" if end > date(2026, 1, 1) else "4"
        actual_end = end if status == "4" else None
        out["activities"].append((
            activity_id, identifier, ref["program"], lead["id"], lead["id"],
            f"Generated activity {n}", f"Actividad generada {n}",
            f"Benchmark activity {n}: training, inspections and public reporting.", None,
            status, start, end, start, actual_end, "USD", visibility, clock, clock, stamp, 1, 2,
        ))  # fmt: skip
        for org, role in ((funder, "1"), (lead, "2"), (implementer, "4")):
            out["activity_participants"].append(
                (ids.take("activity_participants"), activity_id, org["id"], role, None, None, None)
            )
        area = ref["areas"][n % len(ref["areas"])]
        out["activity_priority_areas"].append((activity_id, area["area"]))
        out["activity_action_areas"].append((activity_id, area["action"]))
        first_sector, second_sector = rng.sample(SECTORS, 2)
        out["activity_sectors"] += [
            (ids.take("activity_sectors"), activity_id, "1", first_sector, Decimal("60.00")),
            (ids.take("activity_sectors"), activity_id, "1", second_sector, Decimal("40.00")),
        ]
        out["activity_policy_markers"].append(
            (ids.take("activity_policy_markers"), activity_id, "1", MARKERS[n % 5], str(n % 3))
        )
        department = f"{1 + n % 25:02d}"
        out["activity_locations"].append(
            (ids.take("activity_locations"), activity_id, department, DEPARTMENTS[department])
        )
        for year in (start.year, start.year + 1):
            out["activity_budgets"].append((
                ids.take("activity_budgets"), activity_id, "1", "2", date(year, 1, 1),
                date(year, 12, 31), _cents(rng, 1_000_000, 10_000_000), "USD", date(year, 1, 1),
            ))  # fmt: skip
        for kind, day in (("2", start), ("3", start + timedelta(days=90))):
            out["activity_transactions"].append((
                ids.take("activity_transactions"), activity_id, kind, day,
                _cents(rng, 500_000, 5_000_000), "USD", day, None,
                funder["iati_ref"], funder["name_en"], funder["iati_type"],
                lead["iati_ref"], lead["name_en"], lead["iati_type"],
            ))  # fmt: skip
        result_id = ids.take("activity_results")
        out["activity_results"].append(
            (result_id, activity_id, "1", f"People trained ({n})", None, True)
        )
        indicator_id = ids.take("result_indicators")
        out["result_indicators"].append(
            (indicator_id, result_id, "1", "People trained", True, start.year, "0", None)
        )
        for year in (start.year, start.year + 1):
            out["indicator_periods"].append((
                ids.take("indicator_periods"), indicator_id, date(year, 1, 1),
                date(year, 12, 31), "20", str(rng.randrange(10, 30)),
            ))  # fmt: skip
        audience = (
            visibility
            if visibility != "participants"
            else ("," + ",".join(sorted({funder["code"], lead["code"], implementer["code"]})) + ",")
        )
        out["activity_changes"].append(
            (
                ref["seq"] + n + 1,
                activity_id,
                identifier,
                ref["program"],
                "upsert",
                stamp,
                None,
                audience,
            )
        )
    return out


async def generate(url: str, count: int) -> float:
    """Insert ``count`` activities with COPY; seconds taken."""
    began = time.perf_counter()
    conn = await asyncpg.connect(_dsn(url))
    try:
        ref = await _reference(conn)
        ids = Ids(dict(ref["ids"]))
        rng = random.Random(20260101)
        clock = datetime.now(UTC) - timedelta(days=1)
        for first in range(0, count, CHUNK):
            rows = _rows(ref, first, min(CHUNK, count - first), ids, rng, clock)
            async with conn.transaction():
                for table, records in rows.items():
                    await conn.copy_records_to_table(
                        table, records=records, columns=list(COLUMNS[table])
                    )
        for table in SERIAL_TABLES:
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            await conn.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")
        await conn.execute(
            "INSERT INTO sync_clock (id, seq, stamp) "
            "SELECT 1, max(seq), max(at) FROM activity_changes "
            "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, stamp = excluded.stamp"
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return time.perf_counter() - began


DONOR_SEES = (
    "published_at IS NOT NULL AND visibility IN ('public', 'partners') OR EXISTS (SELECT 1 FROM "
    "activity_participants p JOIN organisations o ON o.id = p.organisation_id "
    "WHERE p.activity_id = activities.id AND o.code = $2) "
    "OR lead_org_id = (SELECT id FROM organisations WHERE code = $2)"
)


async def cursors(url: str, limit: int, depths: list[int]) -> dict[int, str | None]:
    """The cursor that opens page ``depth`` of the donor's list (None for page 1)."""
    conn = await asyncpg.connect(_dsn(url))
    try:
        found: dict[int, str | None] = {}
        for depth in depths:
            if depth == 1:
                found[depth] = None
                continue
            row = await conn.fetchrow(
                f"SELECT updated_at, id FROM activities WHERE {DONOR_SEES} "
                "ORDER BY updated_at, id OFFSET $1 LIMIT 1",
                (depth - 1) * limit - 1,
                DONOR,
            )
            if row is None:
                raise SystemExit(f"not enough activities for depth {depth} at limit {limit}")
            stamp = row["updated_at"].astimezone(UTC)
            found[depth] = encode_cursor([stamp.isoformat(), row["id"]])
        return found
    finally:
        await conn.close()


def timed_get(url: str, headers: dict[str, str]) -> float:
    began = time.perf_counter()
    status, body = http_get(url, headers)
    elapsed = time.perf_counter() - began
    if status != 200:
        raise SystemExit(f"GET {url}: {status} {body[:300]!r}")
    return elapsed


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise ValueError(field)


def stream(url: str, headers: dict[str, str]) -> Iterator[int]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - http to our server
    with _opener.open(request, timeout=3600) as response:
        while chunk := response.read(1 << 16):
            yield len(chunk)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url", required=True, help="e.g. postgresql+asyncpg://postgres@127.0.0.1:5432"
    )
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--depths", default="1,10,100,1000")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    depths = [int(d) for d in args.depths.split(",")]
    pinning = Pinning.detect()
    key = signing_key("bench", generate_private_key_pem("ES256"))
    token, _ = issue_access_token(
        key, issuer=ISSUER, audience=AUDIENCE, client_id="bench-donor", org=DONOR,
        scopes=["cooperation:read"], lifetime_s=7200,
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    with Stack(pinning, postgres_url=args.postgres_url) as stack:
        url = stack.database("cooperation", seed="services.cooperation.seed")
        print(f"database   {url.rsplit('/', 1)[-1]}  ({pinning.describe()})", flush=True)
        seconds = asyncio.run(generate(url, args.activities))
        print(f"generated  {args.activities:,} activities with COPY in {seconds:.1f} s", flush=True)
        env = {
            "COOPERATION_DATABASE_URL": url,
            "COOPERATION_JWKS_JSON": json.dumps({"keys": [key.public_jwk]}),
            "COOPERATION_ACCESS_LOG": "false",
            "COOPERATION_LOG_LEVEL": "WARNING",
        }
        port = free_port()
        server = stack.start(
            "cooperation", "services.cooperation", env | {"COOPERATION_PORT": str(port)}, port=port
        )
        base = f"{server.url}/v1/activities?limit={args.limit}"
        opening = asyncio.run(cursors(url, args.limit, depths))
        # The cursor made here must be the one the API hands out.
        _, page1 = http_get(base, headers)
        if 2 in opening and json.loads(page1)["next_cursor"] != opening[2]:
            raise SystemExit("cursor mismatch: the bench would not measure what clients do")
        targets = {
            depth: base + (f"&cursor={opening[depth]}" if opening[depth] else "")
            for depth in depths
        }
        for target in targets.values():  # warm-up
            for _ in range(3):
                timed_get(target, headers)
        # Depths in turn, round after round, so that any drift of the machine (other load,
        # caches) weighs on every depth alike; medians per depth.
        samples: dict[int, list[float]] = {depth: [] for depth in depths}
        for _ in range(args.repeats):
            for depth, target in targets.items():
                samples[depth].append(timed_get(target, headers) * 1000)
        times = {depth: median(values) for depth, values in samples.items()}
        print(f"\nkeyset pages (service via uvicorn, limit={args.limit}, median of {args.repeats})")
        print(f"{'depth':>7} {'rows before':>12} {'ms':>9} {'x depth 1':>10}")
        for depth in depths:
            ratio = times[depth] / times[depths[0]]
            print(f"{depth:>7} {(depth - 1) * args.limit:>12,} {times[depth]:>9.1f} {ratio:>10.2f}")
        goal = times[depths[-1]] / times[depths[0]]
        verdict = "met" if goal <= 1.3 else "NOT met"
        print(f"goal: depth {depths[-1]} <= 1.3 x depth 1: {verdict} ({goal:.2f})")

        port = free_port()
        exporter = stack.start(
            "exporter", "services.cooperation", env | {"COOPERATION_PORT": str(port)}, port=port
        )
        idle = memory_kb(exporter.pid, "VmRSS")
        began = time.perf_counter()
        size = sum(stream(f"{exporter.url}/v1/iati/activities.xml", headers))
        duration = time.perf_counter() - began
        peak = memory_kb(exporter.pid, "VmHWM")
        print("\nfull IATI XML export (a fresh server process)")
        print(f"activities {args.activities:,} (+ demo), bytes {size:,}, duration {duration:.1f} s")
        print(f"server RSS at start {idle / 1024:.0f} MB, peak during export {peak / 1024:.0f} MB")
        print(f"goal: peak RSS < 150 MB: {'met' if peak < 150 * 1024 else 'NOT met'}")
        if args.keep:
            stack._pg_databases.clear()
            print(f"kept {url}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
