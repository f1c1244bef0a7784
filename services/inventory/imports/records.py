"""From checked import rows to the records the writer stores: what each batch creates,
changes and rejects. Plain functions and data, no SQL: ``writer`` runs the statements."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from services.inventory.imports.rows import EVIDENCE_FIELDS, ImportRow
from services.inventory.pcb.fields import ITEM_FIELDS
from services.inventory.pcb.rules import (
    Analysis,
    AnalysisMethod,
    ConcentrationKind,
    OperatingStatus,
    effective_concentration,
)
from services.inventory.pcb.status import EliminationEvidence, TransitionError, check_transition
from shared.db import utcnow

K = TypeVar("K", bound=Hashable)
ItemKey = tuple[int, str, str]  # holder id, manufacturer, serial number
AnalysisKey = tuple[ItemKey, str, date, str]  # item, method, date, sample
MAX_ERRORS = 10_000
# Import column -> holder or site column.
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
# What a new holder or site needs.
NEW_HOLDER = frozenset({"name", "sector", "is_public"})
NEW_SITE = frozenset({"address", "ubigeo", "site_type"})
ITEM_KEY = ("submission_id", "holder_id", "manufacturer", "serial_number")
UPDATED_ON_CONFLICT = (*ITEM_FIELDS, "site_id", "department_code", "status", "status_since")
ANALYSIS_KEY = ("item_id", "method", "analysed_on", "sample_ref")
ANALYSIS_UPDATED = (
    "value_mg_per_kg",
    "screening_cutoff_mg_per_kg",
    "screening_positive",
    "technique",
    "laboratory",
    "report_ref",
)
# A new item's concentration until its analyses are counted.
_UNKNOWN_CONCENTRATION = ConcentrationKind.UNKNOWN.value
_EVENT_EVIDENCE = {column: column for column in EVIDENCE_FIELDS.values()}
BLANK_EVIDENCE = dict.fromkeys(_EVENT_EVIDENCE)


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
class Outcome:
    """The counts and every rejected row's problems (the first ``MAX_ERRORS``)."""

    counts: Counts = field(default_factory=Counts)
    errors: list[dict[str, Any]] = field(default_factory=list)
    errors_truncated: bool = False
    ignored_columns: set[str] = field(default_factory=set)
    notes: list[dict[str, Any]] = field(default_factory=list)
    _rejected: set[int] = field(default_factory=set)

    def reject(self, row: ImportRow, column: str, reason: str) -> None:
        """Record a problem of a row (the row is not imported)."""
        if row.number not in self._rejected:
            self._rejected.add(row.number)
            self.counts.rows_rejected += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row.number, "column": column, "reason": reason})
        else:
            self.errors_truncated = True


def stamped(records: Iterable[dict[str, Any]], now: Any) -> list[dict[str, Any]]:
    """New records with their timestamps and first version."""
    return [{**r, "created_at": now, "updated_at": now, "version": 1} for r in records]


def given_values(
    keyed: Iterable[tuple[K, ImportRow]],
    columns: dict[str, str],
    last: dict[K, tuple[Any, ...]] | None = None,
) -> dict[K, dict[str, Any]]:
    """The values the rows give for each key (a later row adds to an earlier one).
    ``keyed`` pairs each row with its key; ``columns`` maps import column -> field. A row
    that gives a key the same cells as the row before it for that key (a holder repeated
    on each of its items' rows) is skipped at the cost of one comparison. ``last`` holds
    each key's cells merged before (kept by the caller from batch to batch: what earlier
    batches stored is not given again)."""
    names, fields = tuple(columns), tuple(columns.values())
    given: dict[K, dict[str, Any]] = {}
    last = {} if last is None else last
    for key, row in keyed:
        # A converted cell is never None: None is a cell the row does not give.
        cells = tuple(map(row.values.get, names))
        if last.get(key) == cells:
            continue
        last[key] = cells
        values = given.setdefault(key, {})
        for name, cell in zip(fields, cells, strict=True):
            if cell is not None:
                values[name] = cell
    return given


def new_records(
    given: dict[K, dict[str, Any]],
    known: dict[K, int],
    needed: frozenset[str],
    fields: Iterable[str],
    base: Callable[[K], dict[str, Any]],
) -> list[dict[str, Any]]:
    """Records to create: keys not ``known`` whose rows give what a new one ``needed``."""
    blank = dict.fromkeys(fields)
    return [
        {**base(key), **blank, **values}
        for key, values in given.items()
        if key not in known and needed <= values.keys()
    ]


def changed_values(
    given: dict[K, dict[str, Any]], current: dict[K, dict[str, Any]]
) -> list[tuple[K, dict[str, Any]]]:
    """The keys whose stored values the rows change, each with its values before; the
    given values are merged into ``current``."""
    changed = []
    for key, values in given.items():
        stored = current.get(key)
        if stored is not None and any(stored.get(k) != v for k, v in values.items()):
            changed.append((key, dict(stored)))
            stored.update(values)
    return changed


def _evidence(row: ImportRow) -> EliminationEvidence | None:
    if not row.evidence:
        return None
    given: dict[str, Any] = {f: row.values.get(c) for f, c in EVIDENCE_FIELDS.items()}
    return EliminationEvidence(**given)


@dataclass
class ItemBatch:
    """One batch's items, first status events and analyses, each by its natural key."""

    items: dict[ItemKey, dict[str, Any]] = field(default_factory=dict)
    events: dict[ItemKey, dict[str, Any]] = field(default_factory=dict)
    analyses: dict[AnalysisKey, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Place:
    """Where a row's item stands: its holder, its site and the site's UBIGEO."""

    holder_id: int
    site_id: int
    ubigeo: str


_ITEM_DEFAULTS = tuple(ITEM_FIELDS.items())
_IN_USE = OperatingStatus.IN_USE.value
_NO_STATUS: tuple[None, None] = (None, None)


def item_batch(
    rows: Iterable[tuple[ImportRow, Place]],
    statuses: dict[ItemKey, tuple[str, date | None]],
    submission: tuple[int, str],
    outcome: Outcome,
    now: datetime,
) -> ItemBatch:
    """The records of ``rows`` (rows whose status move the workflow forbids, or that date
    a change before the current status's date, are rejected). ``statuses`` holds the
    stored items' statuses and their dates and follows the batch; ``submission`` is its id
    and organisation. Each record has every column a new item is stored with (``now`` its
    timestamps); an update writes the ``UPDATED_ON_CONFLICT`` ones."""
    batch = ItemBatch()
    items, events, analyses = batch.items, batch.events, batch.analyses
    submission_id, org_code = submission
    imported = 0
    for row, place in rows:
        values = row.values
        key = (place.holder_id, values["manufacturer"], values["serial_number"])
        current, since = statuses.get(key, _NO_STATUS)
        status = values.get("status") or current or _IN_USE
        changed = current is not None and status != current
        if changed:
            # A change is dated: by the row, else by the day it is imported.
            values.setdefault("status_since", utcnow().date())
            problem = _change_problem(row, current, status, since)
            if problem is not None:
                outcome.reject(row, *problem)
                continue
        imported += 1
        if current is None or changed:
            events[key] = _event(row, current, status)
        statuses[key] = (status, values.get("status_since") if changed else since)
        record = {f: values.get(f, default) for f, default in _ITEM_DEFAULTS}
        record["holder_id"] = place.holder_id
        record["site_id"] = place.site_id
        record["department_code"] = place.ubigeo[:2]
        record["status"] = status
        record["status_since"] = values.get("status_since")
        record["submission_id"] = submission_id
        record["org_code"] = org_code
        record["conc_kind"] = _UNKNOWN_CONCENTRATION
        record["created_at"] = record["updated_at"] = now
        record["version"] = 1
        items[key] = record
        if row.analysis is not None:
            a = row.analysis
            analyses[(key, a["method"], a["analysed_on"], a["sample_ref"])] = a
    outcome.counts.rows_imported += imported
    return batch


def _change_problem(
    row: ImportRow, current: Any, status: str, since: date | None
) -> tuple[str, str] | None:
    """Why a stored item's status cannot change as the row says: a move the workflow
    forbids, or a date before that of the current status."""
    try:
        check_transition(OperatingStatus(current), OperatingStatus(status), _evidence(row))
    except TransitionError as exc:
        return ("status", str(exc))
    on = row.values["status_since"]
    if since is not None and on < since:
        return (
            "status_since",
            f"a status change cannot be dated before the previous one ({since})",
        )
    return None


def _event(row: ImportRow, current: str | None, status: str) -> dict[str, Any]:
    eliminated = status == OperatingStatus.ELIMINATED.value and row.evidence
    return {
        "from_status": current,
        "to_status": status,
        "changed_on": row.values.get("status_since"),
        "comment": "import" if current is None else "import: status change",
        **({c: row.values[c] for c in _EVENT_EVIDENCE} if eliminated else {}),
    }


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def concentrations(found: Iterable[Any]) -> list[dict[str, Any]]:
    """Each item's effective concentration from its analyses (rows of item id, method,
    date, value, cut-off and screening result), as update parameters."""
    by_item: dict[int, list[Analysis]] = {}
    for item_id, method, on, value, cutoff, positive in found:
        by_item.setdefault(item_id, []).append(
            Analysis(AnalysisMethod(method), on, _decimal(value), _decimal(cutoff), positive)
        )
    params = []
    for item_id, analyses in by_item.items():
        conc = effective_concentration(analyses)
        params.append(
            {
                "b_id": item_id,
                "b_kind": conc.kind.value,
                "b_value": conc.value_mg_per_kg,
                "b_source": conc.source.value if conc.source else None,
                "b_on": conc.analysed_on,
            }
        )
    return params
