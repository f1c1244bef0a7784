"""Writes checked import rows in batches: holders by RUC, sites by holder and name, items by
holder, manufacturer and serial number, analyses by item, method, date and sample, all as
upserts (INSERT ... ON CONFLICT DO UPDATE), so importing a file again updates instead of
duplicating. Checks that need the database (a RUC of another organisation, a status move
the workflow forbids) reject rows here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.imports.rows import ImportRow
from services.inventory.pcb.fields import ITEM_FIELDS
from services.inventory.pcb.models import PcbAnalysis, PcbItem, PcbStatusEvent
from services.inventory.pcb.rules import (
    Analysis,
    AnalysisMethod,
    EliminationEvidence,
    OperatingStatus,
    TransitionError,
    check_transition,
    effective_concentration,
)
from services.inventory.registry.models import Holder, Site
from services.inventory.submissions.models import Submission
from shared.db import utcnow
from shared.security import Principal

MAX_ERRORS = 10_000
HOLDER_FIELDS = {
    "holder_name": "name",
    "holder_sector": "sector",
    "holder_is_public": "is_public",
    "holder_contact_name": "contact_name",
    "holder_contact_email": "contact_email",
    "holder_contact_phone": "contact_phone",
}
SITE_FIELDS = {
    "site_address": "address",
    "site_ubigeo": "ubigeo",
    "site_latitude": "latitude",
    "site_longitude": "longitude",
    "site_type": "site_type",
}
ITEM_KEY = ("submission_id", "holder_id", "manufacturer", "serial_number")
UPDATED_ON_CONFLICT = (
    *ITEM_FIELDS,
    "site_id",
    "department_code",
    "status",
    "status_since",
)


@dataclass
class Counts:
    """What an import did."""

    rows_total: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    holders_created: int = 0
    holders_updated: int = 0
    sites_created: int = 0
    sites_updated: int = 0
    items_created: int = 0
    items_updated: int = 0
    analyses_recorded: int = 0
    status_changes: int = 0


@dataclass
class Importer:
    """Collects rows into batches and writes each batch in the current transaction."""

    session: AsyncSession
    principal: Principal
    submission: Submission
    batch_size: int = 2000
    counts: Counts = field(default_factory=Counts)
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_truncated: bool = False
    _batch: list[ImportRow] = field(default_factory=list)
    _holders: dict[str, int] = field(default_factory=dict)
    _sites: dict[tuple[int, str], int] = field(default_factory=dict)
    _holder_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    _site_values: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    _rejected: set[int] = field(default_factory=set)
    _foreign: set[str] = field(default_factory=set)
    _staging: bool = False

    def _insert(self, model: Any) -> Any:
        """INSERT with the dialect's ON CONFLICT support (PostgreSQL or SQLite)."""
        dialect = self.session.get_bind().dialect.name
        module = postgresql if dialect == "postgresql" else sqlite
        return module.insert(model)

    def reject(self, row: ImportRow, column: str, reason: str) -> None:
        """Record a problem of a row (the row is not imported)."""
        if row.number not in self._rejected:
            self._rejected.add(row.number)
            self.counts.rows_rejected += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row.number, "column": column, "reason": reason})
        else:
            self.errors_truncated = True

    async def add(self, row: ImportRow) -> None:
        """Take one parsed row (rejected at once if it has errors)."""
        self.counts.rows_total += 1
        if row.errors:
            for column, reason in row.errors:
                self.reject(row, column, reason)
            return
        self._batch.append(row)
        if len(self._batch) >= self.batch_size:
            await self.flush()

    async def flush(self) -> None:
        """Write the rows collected so far."""
        rows, self._batch = self._batch, []
        if not rows:
            return
        rows = await self._write_holders(rows)
        rows = await self._write_sites(rows)
        await self._write_items(rows)

    # -- holders ------------------------------------------------------------------------

    async def _write_holders(self, rows: list[ImportRow]) -> list[ImportRow]:
        table = _table(Holder)
        fields = list(HOLDER_FIELDS.values())
        rucs = {r.values["holder_ruc"] for r in rows} - self._holders.keys() - self._foreign
        if rucs:
            found = await self.session.execute(
                select(
                    table.c.ruc, table.c.id, table.c.org_code, *(table.c[f] for f in fields)
                ).where(table.c.ruc.in_(rucs))
            )
            for ruc, hid, org, *values in found.all():
                if org == self.submission.org_code:
                    self._holders[ruc] = hid
                    self._holder_values[ruc] = dict(zip(fields, values, strict=True))
                else:
                    self._foreign.add(ruc)
        kept: list[ImportRow] = []
        given_by_ruc: dict[str, dict[str, Any]] = {}
        for row in rows:
            ruc = row.values["holder_ruc"]
            if ruc in self._foreign:
                self.reject(row, "holder_ruc", f"RUC {ruc} is registered to another organisation")
                continue
            given = {f: row.values[c] for c, f in HOLDER_FIELDS.items() if c in row.values}
            known = given_by_ruc.get(ruc)
            if known is None:
                given_by_ruc[ruc] = given
            elif given != known:
                known.update(given)
            kept.append(row)
        now = utcnow()
        new = [
            {"ruc": ruc, "org_code": self.submission.org_code, **dict.fromkeys(fields), **values}
            for ruc, values in given_by_ruc.items()
            if ruc not in self._holders and {"name", "sector", "is_public"} <= values.keys()
        ]
        if new:
            created = await self.session.execute(
                self._insert(table).returning(table.c.ruc, table.c.id),
                [{**h, "created_at": now, "updated_at": now, "version": 1} for h in new],
            )
            for ruc, hid in created.all():
                self._holders[ruc] = hid
            for h in new:
                self._holder_values[h["ruc"]] = {f: h[f] for f in fields}
            self.counts.holders_created += len(new)
        changed = []
        for ruc, given in given_by_ruc.items():
            current = self._holder_values.get(ruc)
            if current is not None and any(current.get(k) != v for k, v in given.items()):
                current.update(given)
                changed.append({"b_id": self._holders[ruc], **current})
        if changed:
            await self.session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(
                    **{f: bindparam(f) for f in fields},
                    version=table.c.version + 1,
                    updated_at=now,
                ),
                changed,
            )
            self.counts.holders_updated += len(changed)
        out = []
        for row in kept:
            if row.values["holder_ruc"] not in self._holders:
                self.reject(
                    row,
                    "holder_name",
                    "a new holder needs holder_name, holder_sector and holder_is_public",
                )
            else:
                out.append(row)
        return out

    # -- sites --------------------------------------------------------------------------

    async def _write_sites(self, rows: list[ImportRow]) -> list[ImportRow]:
        table = _table(Site)
        fields = list(SITE_FIELDS.values())
        keys = {(self._holders[r.values["holder_ruc"]], r.values["site_name"]) for r in rows}
        unknown = keys - self._sites.keys()
        if unknown:
            found = await self.session.execute(
                select(
                    table.c.holder_id, table.c.name, table.c.id, *(table.c[f] for f in fields)
                ).where(
                    table.c.holder_id.in_({h for h, _ in unknown}),
                    table.c.name.in_({n for _, n in unknown}),
                )
            )
            for holder_id, name, sid, *values in found.all():
                self._sites[(holder_id, name)] = sid
                self._site_values[(holder_id, name)] = dict(zip(fields, values, strict=True))
        given_by_key: dict[tuple[int, str], dict[str, Any]] = {}
        for row in rows:
            cells = row.values
            key = (self._holders[cells["holder_ruc"]], cells["site_name"])
            given = {f: cells[c] for c, f in SITE_FIELDS.items() if c in cells}
            known = given_by_key.get(key)
            if known is None:
                given_by_key[key] = given
            elif given != known:
                known.update(given)
        now = utcnow()
        new = [
            {"holder_id": key[0], "name": key[1], **dict.fromkeys(fields), **values}
            for key, values in given_by_key.items()
            if key not in self._sites and {"address", "ubigeo", "site_type"} <= values.keys()
        ]
        if new:
            created = await self.session.execute(
                self._insert(table).returning(table.c.holder_id, table.c.name, table.c.id),
                [{**s, "created_at": now, "updated_at": now, "version": 1} for s in new],
            )
            for holder_id, name, sid in created.all():
                self._sites[(holder_id, name)] = sid
            for s in new:
                self._site_values[(s["holder_id"], s["name"])] = {f: s[f] for f in fields}
            self.counts.sites_created += len(new)
        changed, moved = [], []
        for key, given in given_by_key.items():
            current = self._site_values.get(key)
            if current is not None and any(current.get(k) != v for k, v in given.items()):
                if "ubigeo" in given and given["ubigeo"] != current["ubigeo"]:
                    moved.append(self._sites[key])
                current.update(given)
                changed.append({"b_id": self._sites[key], **current})
        if changed:
            await self.session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(
                    **{f: bindparam(f) for f in fields},
                    version=table.c.version + 1,
                    updated_at=now,
                ),
                changed,
            )
            self.counts.sites_updated += len(changed)
        if moved:
            await self._move_items(moved)
        out = []
        for row in rows:
            key = (self._holders[row.values["holder_ruc"]], row.values["site_name"])
            if key not in self._sites:
                self.reject(
                    row, "site_ubigeo", "a new site needs site_address, site_ubigeo and site_type"
                )
            else:
                out.append(row)
        return out

    async def _move_items(self, site_ids: list[int]) -> None:
        """Items of re-located sites move to the new department in editable submissions
        (validated ones keep where the item was when validated)."""
        items, sites = _table(PcbItem), _table(Site)
        editable = select(Submission.id).where(Submission.status.in_(("draft", "returned")))
        department = (
            select(func.substr(sites.c.ubigeo, 1, 2))
            .where(sites.c.id == items.c.site_id)
            .scalar_subquery()
        )
        await self.session.execute(
            update(items)
            .where(items.c.site_id.in_(site_ids), items.c.submission_id.in_(editable))
            .values(department_code=department)
        )

    # -- items, history, analyses --------------------------------------------------------

    async def _existing_items(
        self, rows: list[ImportRow]
    ) -> dict[tuple[int, str, str], tuple[int, str]]:
        keys = {
            (
                self._holders[r.values["holder_ruc"]],
                r.values["manufacturer"],
                r.values["serial_number"],
            )
            for r in rows
        }
        if self._postgres():
            # Exact keys as arrays: index lookups, one bound parameter per column.
            driver = await self._driver()
            holders, makers, serials = (list(c) for c in zip(*keys, strict=True))
            records = await driver.fetch(
                "SELECT p.holder_id, p.manufacturer, p.serial_number, p.id, p.status "
                "FROM unnest($2::int[], $3::text[], $4::text[]) AS k(h, m, s) "
                "JOIN pcb_items p ON p.submission_id = $1 AND p.holder_id = k.h "
                "AND p.manufacturer = k.m AND p.serial_number = k.s",
                self.submission.id,
                holders,
                makers,
                serials,
            )
            return {(r[0], r[1], r[2]): (r[3], r[4]) for r in records}
        holder_ids = {k[0] for k in keys}
        serials_set = {k[2] for k in keys}
        found = await self.session.execute(
            select(
                PcbItem.holder_id,
                PcbItem.manufacturer,
                PcbItem.serial_number,
                PcbItem.id,
                PcbItem.status,
            ).where(
                PcbItem.submission_id == self.submission.id,
                PcbItem.holder_id.in_(holder_ids),
                PcbItem.serial_number.in_(serials_set),
            )
        )
        return {(h, m, s): (i, st) for h, m, s, i, st in found.all() if (h, m, s) in keys}

    async def _write_items(self, rows: list[ImportRow]) -> None:
        if not rows:
            return
        existing = await self._existing_items(rows)
        now = utcnow()
        items: dict[tuple[int, str, str], dict[str, Any]] = {}
        events: dict[tuple[int, str, str], dict[str, Any]] = {}
        analyses: dict[tuple[tuple[int, str, str], str, date, str], dict[str, Any]] = {}
        statuses: dict[tuple[int, str, str], str] = {k: st for k, (_, st) in existing.items()}
        for row in rows:
            holder_id = self._holders[row.values["holder_ruc"]]
            key = (holder_id, row.values["manufacturer"], row.values["serial_number"])
            site_key = (holder_id, row.values["site_name"])
            site_id, ubigeo = self._sites[site_key], self._site_values[site_key]["ubigeo"]
            current = statuses.get(key)
            status = row.values.get("status") or current or OperatingStatus.IN_USE.value
            if current is not None and status != current:
                evidence = (
                    EliminationEvidence(
                        **{
                            "disposal_facility": row.values.get("disposal_facility", ""),
                            "country": row.values.get("disposal_country", ""),
                            "disposed_on": row.values.get("disposed_on"),
                            "certificate_ref": row.values.get("certificate_ref", ""),
                            "mass_kg": row.values.get("disposed_mass_kg"),
                        }
                    )
                    if row.evidence
                    else None
                )
                try:
                    check_transition(OperatingStatus(current), OperatingStatus(status), evidence)
                except TransitionError as exc:
                    self.reject(row, "status", str(exc))
                    continue
            self.counts.rows_imported += 1
            if current is None or status != current:
                events[key] = {
                    "from_status": current,
                    "to_status": status,
                    "changed_on": row.values.get("status_since"),
                    "comment": "import" if current is None else "import: status change",
                    **(
                        {
                            "disposal_facility": row.values["disposal_facility"],
                            "disposal_country": row.values["disposal_country"],
                            "disposed_on": row.values["disposed_on"],
                            "certificate_ref": row.values["certificate_ref"],
                            "disposed_mass_kg": row.values["disposed_mass_kg"],
                        }
                        if status == OperatingStatus.ELIMINATED.value and row.evidence
                        else {}
                    ),
                }
            statuses[key] = status
            items[key] = {
                **{f: row.values.get(f, default) for f, default in ITEM_FIELDS.items()},
                "holder_id": holder_id,
                "site_id": site_id,
                "department_code": ubigeo[:2],
                "status": status,
                "status_since": row.values.get("status_since"),
                "submission_id": self.submission.id,
                "org_code": self.submission.org_code,
            }
            if row.analysis is not None:
                a = row.analysis
                analyses[(key, a["method"], a["analysed_on"], a["sample_ref"])] = a
        if not items:
            return
        records = [
            {**i, "conc_kind": "unknown", "created_at": now, "updated_at": now, "version": 1}
            for i in items.values()
        ]
        if self._postgres():
            ids = await self._copy_items(records, {k: v[0] for k, v in existing.items()})
        else:
            ids = await self._upsert_items(records)
        created = sum(1 for k in items if k not in existing)
        self.counts.items_created += created
        self.counts.items_updated += len(items) - created
        if events:
            self.counts.status_changes += sum(
                1 for e in events.values() if e["from_status"] is not None
            )
            blank = dict.fromkeys(
                (
                    "disposal_facility",
                    "disposal_country",
                    "disposed_on",
                    "certificate_ref",
                    "disposed_mass_kg",
                )
            )
            history = [
                {
                    "item_id": ids[k],
                    "recorded_at": now,
                    "client_id": self.principal.client_id,
                    "org_code": self.principal.org,
                    **blank,
                    **e,
                }
                for k, e in events.items()
            ]
            if self._postgres():
                driver = await self._driver()
                columns = list(history[0])
                await driver.copy_records_to_table(
                    "pcb_status_events",
                    columns=columns,
                    records=[tuple(h[c] for c in columns) for h in history],
                )
            else:
                await self.session.execute(self._insert(_table(PcbStatusEvent)), history)
        if analyses:
            await self._write_analyses(ids, analyses, now)

    def _postgres(self) -> bool:
        return bool(self.session.get_bind().dialect.name == "postgresql")

    async def _driver(self) -> Any:
        """The asyncpg connection under the session, in the session's transaction."""
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def _upsert_items(self, records: list[dict[str, Any]]) -> dict[tuple[int, str, str], int]:
        """INSERT ... ON CONFLICT DO UPDATE, many rows per statement; the ids by key."""
        table = _table(PcbItem)
        insert = self._insert(table)
        upsert = insert.on_conflict_do_update(
            index_elements=list(ITEM_KEY),
            set_={
                **{c: insert.excluded[c] for c in UPDATED_ON_CONFLICT},
                "updated_at": insert.excluded.updated_at,
                "version": table.c.version + 1,
            },
        ).returning(table.c.holder_id, table.c.manufacturer, table.c.serial_number, table.c.id)
        result = await self.session.execute(upsert, records)
        return {(h, m, s): i for h, m, s, i in result.all()}

    async def _copy_items(
        self, records: list[dict[str, Any]], existing: dict[tuple[int, str, str], int]
    ) -> dict[tuple[int, str, str], int]:
        """PostgreSQL: new items by COPY with ids drawn from the sequence, existing ones by
        one UPDATE from a COPYed temporary table. Binary COPY costs a fraction of bound
        parameters; a concurrent insert of the same key fails the import (409), it never
        duplicates."""
        driver = await self._driver()
        columns = list(records[0])
        ids: dict[tuple[int, str, str], int] = {}
        new = [r for r in records if _key(r) not in existing]
        old = [r for r in records if _key(r) in existing]
        if new:
            drawn = await driver.fetch(
                "SELECT nextval(pg_get_serial_sequence('pcb_items', 'id')) "
                "FROM generate_series(1, $1)",
                len(new),
            )
            for record, (item_id,) in zip(new, drawn, strict=True):
                ids[_key(record)] = item_id
            await driver.copy_records_to_table(
                "pcb_items",
                columns=["id", *columns],
                records=[(ids[_key(r)], *(r[c] for c in columns)) for r in new],
            )
        if old:
            names = ", ".join(UPDATED_ON_CONFLICT)
            if not self._staging:
                await driver.execute(
                    f"CREATE TEMP TABLE import_items ON COMMIT DROP AS SELECT id, {names}, "  # noqa: S608
                    "updated_at FROM pcb_items WITH NO DATA"
                )
                self._staging = True
            else:
                await driver.execute("TRUNCATE import_items")
            await driver.copy_records_to_table(
                "import_items",
                columns=["id", *UPDATED_ON_CONFLICT, "updated_at"],
                records=[
                    (existing[_key(r)], *(r[c] for c in UPDATED_ON_CONFLICT), r["updated_at"])
                    for r in old
                ],
            )
            updates = ", ".join(f"{c} = t.{c}" for c in UPDATED_ON_CONFLICT)
            await driver.execute(
                f"UPDATE pcb_items p SET {updates}, updated_at = t.updated_at, "  # noqa: S608
                "version = p.version + 1 FROM import_items t WHERE p.id = t.id"
            )
            for record in old:
                ids[_key(record)] = existing[_key(record)]
        return ids

    async def _write_analyses(
        self,
        ids: dict[tuple[int, str, str], int],
        analyses: dict[tuple[tuple[int, str, str], str, date, str], dict[str, Any]],
        now: Any,
    ) -> None:
        insert = self._insert(_table(PcbAnalysis))
        upsert = insert.on_conflict_do_update(
            index_elements=["item_id", "method", "analysed_on", "sample_ref"],
            set_={
                c: insert.excluded[c]
                for c in (
                    "value_mg_per_kg",
                    "screening_cutoff_mg_per_kg",
                    "screening_positive",
                    "technique",
                    "laboratory",
                    "report_ref",
                )
            },
        )
        await self.session.execute(
            upsert,
            [
                {
                    **a,
                    "item_id": ids[key[0]],
                    "created_at": now,
                    "created_by": self.principal.client_id,
                }
                for key, a in analyses.items()
            ],
        )
        self.counts.analyses_recorded += len(analyses)
        item_ids = sorted({ids[key[0]] for key in analyses})
        found = await self.session.execute(
            select(
                PcbAnalysis.item_id,
                PcbAnalysis.method,
                PcbAnalysis.analysed_on,
                PcbAnalysis.value_mg_per_kg,
                PcbAnalysis.screening_cutoff_mg_per_kg,
                PcbAnalysis.screening_positive,
            ).where(PcbAnalysis.item_id.in_(item_ids))
        )
        by_item: dict[int, list[Analysis]] = defaultdict(list)
        for item_id, method, on, value, cutoff, positive in found.all():
            by_item[item_id].append(
                Analysis(AnalysisMethod(method), on, _dec(value), _dec(cutoff), positive)
            )
        params = []
        for item_id, rows in by_item.items():
            conc = effective_concentration(rows)
            params.append(
                {
                    "b_id": item_id,
                    "b_kind": conc.kind.value,
                    "b_value": conc.value_mg_per_kg,
                    "b_source": conc.source.value if conc.source else None,
                }
            )
        table = _table(PcbItem)
        await self.session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values(
                conc_kind=bindparam("b_kind"),
                conc_value_mg_per_kg=bindparam("b_value"),
                conc_source=bindparam("b_source"),
            ),
            params,
        )


def _key(record: dict[str, Any]) -> tuple[int, str, str]:
    return (record["holder_id"], record["manufacturer"], record["serial_number"])


def _table(model: Any) -> Table:
    # Core tables, not ORM entities: bulk statements then skip the ORM's per-row work.
    return cast(Table, model.__table__)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)
