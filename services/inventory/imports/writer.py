"""Writes checked import rows in batches: holders by RUC, sites by holder and name, items by
holder, manufacturer and serial number, analyses by item, method, date and sample, all as
upserts, so importing a file again updates instead of duplicating. Checks that need the
database (a RUC of another organisation, a status move the workflow forbids) reject rows
here. What each batch writes is worked out by ``records`` (no SQL); the dialect's bulk
statements are in ``bulk``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.imports import bulk
from services.inventory.imports.bulk import table
from services.inventory.imports.records import (
    BLANK_EVIDENCE,
    HOLDER_FIELDS,
    NEW_HOLDER,
    NEW_SITE,
    SITE_FIELDS,
    AnalysisKey,
    Counts,
    ItemBatch,
    ItemKey,
    Outcome,
    Place,
    changed_values,
    concentrations,
    given_values,
    item_batch,
    new_records,
    stamped,
)
from services.inventory.imports.rows import ImportRow
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.mass import MassChecks
from services.inventory.pcb.models import PcbAnalysis, PcbItem
from services.inventory.registry.models import Holder, Site
from services.inventory.settings import InventorySettings
from services.inventory.submissions.models import Submission
from shared.db import utcnow
from shared.security import Principal

K = TypeVar("K", bound=Hashable)
_MASS_FIELDS = ("total_mass_kg", "dry_mass_kg", "fluid_mass_kg", "fluid_volume_l", "fluid_kind")
SiteKey = tuple[int, str]  # holder id, site name
Placed = tuple[ImportRow, Place]


class _Known(dict[K, int]):
    """Stored records: ids by natural key (the mapping), and their columns' values."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: dict[K, dict[str, Any]] = {}


MAX_IGNORED_COLUMNS = 100
MAX_NOTES = 10_000


@dataclass
class Importer:
    """Collects rows into batches and writes each batch in the current transaction."""

    session: AsyncSession
    principal: Principal
    submission: Submission
    batch_size: int = 2000
    outcome: Outcome = field(default_factory=Outcome)
    _batch: list[ImportRow] = field(default_factory=list)
    _holders: _Known[str] = field(default_factory=_Known)
    _sites: _Known[SiteKey] = field(default_factory=_Known)
    _foreign: set[str] = field(default_factory=set)
    # Each holder's and site's cells as last merged, so that a later batch repeating them
    # gives nothing to compare or store again.
    _holder_cells: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    _site_cells: dict[SiteKey, tuple[Any, ...]] = field(default_factory=dict)
    _staging: bool = False
    # The previous batch's item writes, running while the next batch is worked out.
    _sending: asyncio.Future[None] | None = None
    # Mass checks (densities and tolerances); loaded at the first row unless given.
    checks: MassChecks | None = None

    @property
    def counts(self) -> Counts:
        return self.outcome.counts

    async def add(self, row: ImportRow) -> None:
        """Take one parsed row (rejected at once if it has errors)."""
        self.counts.rows_total += 1
        if row.ignored and len(self.outcome.ignored_columns) < MAX_IGNORED_COLUMNS:
            self.outcome.ignored_columns.update(row.ignored)
        for column, note in row.notes:
            if len(self.outcome.notes) < MAX_NOTES:
                self.outcome.notes.append({"row": row.number, "column": column, "note": note})
        if not row.errors:
            row.errors.extend(await self._mass_problems(row))
        if row.errors:
            for column, reason in row.errors:
                self.outcome.reject(row, column, reason)
            return
        self._batch.append(row)
        if len(self._batch) >= self.batch_size:
            await self._write_batch()

    async def _db(self) -> AsyncSession:
        """The session, once the item writes in flight (if any) are done: one statement at
        a time on the connection. Their error (a concurrent import, 409) is raised here."""
        if self._sending is not None:
            sending, self._sending = self._sending, None
            await sending
        return self.session

    async def abandon(self) -> None:
        """Wait for the item writes in flight, whatever their outcome: the import failed
        and its transaction is rolled back."""
        if self._sending is not None:
            sending, self._sending = self._sending, None
            with suppress(Exception):
                await sending

    async def _mass_problems(self, row: ImportRow) -> list[tuple[str, str]]:
        """A row's fluid volume and mass that fit no density, and disposal evidence whose
        mass falls short of what the row says the item weighs (as the JSON API checks)."""
        if self.checks is None:
            settings = InventorySettings()
            self.checks = MassChecks(
                await load_densities(await self._db()),
                settings.pcb_density_tolerance,
                settings.pcb_disposed_mass_tolerance_kg,
            )
        values = row.values
        problems: list[tuple[str, str]] = []
        fluid = self.checks.fluid_problem(values.get("fluid_volume_l"), values.get("fluid_mass_kg"))
        if fluid is not None:
            problems.append(("fluid_mass_kg", fluid))
        if row.evidence:
            item = SimpleNamespace(**{k: values.get(k) for k in _MASS_FIELDS})
            short = self.checks.disposed_mass_problem(item, row.evidence["disposed_mass_kg"])
            if short is not None:
                problems.append(("disposed_mass_kg", short))
        return problems

    async def flush(self) -> None:
        """Write the rows collected so far, and wait until they are written."""
        await self._write_batch()
        await self._db()

    async def _write_batch(self) -> None:
        """Write the rows collected so far; their items are still being written on return
        (COPY on PostgreSQL), while the caller reads and checks the next rows."""
        rows, self._batch = self._batch, []
        if not rows:
            return
        by_holder = await self._write_holders(rows)
        placed = await self._write_sites(by_holder)
        await self._write_items(placed)

    async def _store(
        self,
        target: Table,
        fields: list[str],
        known: _Known[K],
        given: dict[K, dict[str, Any]],
        new: list[dict[str, Any]],
        key_of: Callable[[Any], K],
    ) -> tuple[int, list[tuple[K, dict[str, Any]]]]:
        """Create the ``new`` records (``key_of`` a record gives its key) and update those
        whose values ``given`` changes; how many were created, and the changed keys with
        their values before."""
        now = utcnow()
        if new:
            key_columns = [c for c in target.c if c.name in new[0] and c.name not in fields]
            created = await (await self._db()).execute(
                bulk.insert(self.session, target).returning(target.c.id, *key_columns),
                stamped(new, now),
            )
            for stored in created.mappings():
                known[key_of(stored)] = stored["id"]
            for record in new:
                known.columns[key_of(record)] = {f: record[f] for f in fields}
        changed = changed_values(given, known.columns)
        if changed:
            await (await self._db()).execute(
                update(target)
                .where(target.c.id == bindparam("b_id"))
                .values(
                    **{f: bindparam(f) for f in fields},
                    version=target.c.version + 1,
                    updated_at=now,
                ),
                [{"b_id": known[key], **known.columns[key]} for key, _ in changed],
            )
        return len(new), changed

    # -- holders ------------------------------------------------------------------------

    async def _write_holders(self, rows: list[ImportRow]) -> list[tuple[str, ImportRow]]:
        """Holders by RUC; the rows whose holder exists (now), each with its RUC."""
        holders, fields = table(Holder), list(HOLDER_FIELDS.values())
        keyed = [(r.values["holder_ruc"], r) for r in rows]
        rucs = {ruc for ruc, _ in keyed} - self._holders.keys() - self._foreign
        if rucs:
            found = await (await self._db()).execute(
                select(
                    holders.c.ruc, holders.c.id, holders.c.org_code, *(holders.c[f] for f in fields)
                ).where(holders.c.ruc.in_(rucs))
            )
            for ruc, hid, org, *values in found.all():
                if org == self.submission.org_code:
                    self._holders[ruc] = hid
                    self._holders.columns[ruc] = dict(zip(fields, values, strict=True))
                else:
                    self._foreign.add(ruc)
        if self._foreign:
            kept = []
            for ruc, row in keyed:
                if ruc in self._foreign:
                    self.outcome.reject(
                        row, "holder_ruc", f"RUC {ruc} is registered to another organisation"
                    )
                else:
                    kept.append((ruc, row))
            keyed = kept
        given = given_values(keyed, HOLDER_FIELDS, self._holder_cells)
        org = self.submission.org_code
        new = new_records(
            given, self._holders, NEW_HOLDER, fields, lambda ruc: {"ruc": ruc, "org_code": org}
        )
        created, changed = await self._store(
            holders, fields, self._holders, given, new, lambda r: str(r["ruc"])
        )
        self.counts.holders_created += created
        self.counts.holders_updated += len(changed)
        return self._known_only(
            keyed,
            self._holders,
            "holder_name",
            "a new holder needs holder_name, holder_sector and holder_is_public",
        )

    def _known_only(
        self, keyed: list[tuple[K, ImportRow]], known: _Known[K], column: str, why: str
    ) -> list[tuple[K, ImportRow]]:
        """The rows whose holder (or site) now exists; the others are rejected."""
        out = []
        for key, row in keyed:
            if key in known:
                out.append((key, row))
            else:
                self.outcome.reject(row, column, why)
        return out

    # -- sites --------------------------------------------------------------------------

    async def _write_sites(self, by_holder: list[tuple[str, ImportRow]]) -> list[Placed]:
        """Sites by holder and name; the rows whose site exists (now), each with its place."""
        sites, fields = table(Site), list(SITE_FIELDS.values())
        holder_ids = self._holders
        keyed = [((holder_ids[ruc], row.values["site_name"]), row) for ruc, row in by_holder]
        unknown = {key for key, _ in keyed} - self._sites.keys()
        if unknown:
            found = await (await self._db()).execute(
                select(
                    sites.c.holder_id, sites.c.name, sites.c.id, *(sites.c[f] for f in fields)
                ).where(
                    sites.c.holder_id.in_({h for h, _ in unknown}),
                    sites.c.name.in_({n for _, n in unknown}),
                )
            )
            for holder_id, name, sid, *values in found.all():
                self._sites[(holder_id, name)] = sid
                self._sites.columns[(holder_id, name)] = dict(zip(fields, values, strict=True))
        given = given_values(keyed, SITE_FIELDS, self._site_cells)
        new = new_records(
            given, self._sites, NEW_SITE, fields, lambda k: {"holder_id": k[0], "name": k[1]}
        )
        created, changed = await self._store(
            sites, fields, self._sites, given, new, lambda r: (r["holder_id"], r["name"])
        )
        self.counts.sites_created += created
        self.counts.sites_updated += len(changed)
        moved = [
            self._sites[key]
            for key, before in changed
            if before["ubigeo"] != self._sites.columns[key]["ubigeo"]
        ]
        if moved:
            await self._move_items(moved)
        kept = self._known_only(
            keyed,
            self._sites,
            "site_ubigeo",
            "a new site needs site_address, site_ubigeo and site_type",
        )
        places: dict[SiteKey, Place] = {}
        placed = []
        for key, row in kept:
            place = places.get(key)
            if place is None:
                place = Place(key[0], self._sites[key], self._sites.columns[key]["ubigeo"])
                places[key] = place
            placed.append((row, place))
        return placed

    async def _move_items(self, site_ids: list[int]) -> None:
        """Items of re-located sites move to the new department in editable submissions
        (validated ones keep where the item was when validated)."""
        items, sites = table(PcbItem), table(Site)
        editable = select(Submission.id).where(Submission.status.in_(("draft", "returned")))
        department = (
            select(func.substr(sites.c.ubigeo, 1, 2))
            .where(sites.c.id == items.c.site_id)
            .scalar_subquery()
        )
        await (await self._db()).execute(
            update(items)
            .where(items.c.site_id.in_(site_ids), items.c.submission_id.in_(editable))
            .values(department_code=department)
        )

    # -- items, history, analyses --------------------------------------------------------

    async def _write_items(self, placed: list[Placed]) -> None:
        if not placed:
            return
        keys = {
            (p.holder_id, r.values["manufacturer"], r.values["serial_number"]) for r, p in placed
        }
        existing = await bulk.existing_items(await self._db(), self.submission.id, keys)
        statuses = {k: (st, since) for k, (_, st, since) in existing.items()}
        submission = (self.submission.id, self.submission.org_code)
        now = utcnow()
        batch = item_batch(placed, statuses, submission, self.outcome, now)
        if not batch.items:
            return
        created = sum(1 for k in batch.items if k not in existing)
        self.counts.items_created += created
        self.counts.items_updated += len(batch.items) - created
        self.counts.status_changes += sum(
            1 for e in batch.events.values() if e["from_status"] is not None
        )
        stored = {k: v[0] for k, v in existing.items()}
        staging = self._staging
        # The staging table of updates lives until the commit once it is made.
        self._staging = staging or created < len(batch.items)
        self._sending = asyncio.ensure_future(self._send(batch, stored, staging, now))

    async def _send(
        self, batch: ItemBatch, stored: dict[ItemKey, int], staging: bool, now: datetime
    ) -> None:
        """A batch's items, their first status events and analyses (on ``session`` itself:
        this is the write in flight that ``_db`` waits for)."""
        if bulk.is_postgres(self.session):
            ids = await bulk.copy_items(self.session, batch.items, stored, staging=staging)
        else:
            ids = await bulk.upsert_items(self.session, batch.items)
        if batch.events:
            who = {"client_id": self.principal.client_id, "org_code": self.principal.org}
            history = [
                {"item_id": ids[k], "recorded_at": now, **who, **BLANK_EVIDENCE, **e}
                for k, e in batch.events.items()
            ]
            await bulk.insert_events(self.session, history)
        if batch.analyses:
            await self._write_analyses(ids, batch.analyses, now)

    async def _write_analyses(
        self,
        ids: dict[ItemKey, int],
        analyses: dict[AnalysisKey, dict[str, Any]],
        now: datetime,
    ) -> None:
        creator = self.principal.client_id
        await bulk.upsert_analyses(
            self.session,
            [
                {**a, "item_id": ids[key[0]], "created_at": now, "created_by": creator}
                for key, a in analyses.items()
            ],
        )
        self.counts.analyses_recorded += len(analyses)
        found = await self.session.execute(
            select(
                PcbAnalysis.item_id,
                PcbAnalysis.method,
                PcbAnalysis.analysed_on,
                PcbAnalysis.value_mg_per_kg,
                PcbAnalysis.screening_cutoff_mg_per_kg,
                PcbAnalysis.screening_positive,
            ).where(PcbAnalysis.item_id.in_(sorted({ids[key[0]] for key in analyses})))
        )
        items = table(PcbItem)
        await self.session.execute(
            update(items)
            .where(items.c.id == bindparam("b_id"))
            .values(
                conc_kind=bindparam("b_kind"),
                conc_value_mg_per_kg=bindparam("b_value"),
                conc_source=bindparam("b_source"),
                conc_analysed_on=bindparam("b_on"),
            ),
            concentrations(found.all()),
        )
