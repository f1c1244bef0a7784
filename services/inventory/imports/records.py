"""From checked import rows to the records the writer stores: what each batch creates,
changes and rejects. Plain functions and data, no SQL: ``writer`` runs the statements."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from services.inventory.imports.rows import EVIDENCE_FIELDS, ImportRow
from services.inventory.pcb.fields import ITEM_FIELDS
from services.inventory.pcb.rules import (
    Analysis,
    AnalysisMethod,
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
    rows: Iterable[ImportRow], key_of: Callable[[ImportRow], K], columns: dict[str, str]
) -> dict[K, dict[str, Any]]:
    """The values the rows give for each key (a later row adds to an earlier one)."""
    given: dict[K, dict[str, Any]] = {}
    for row in rows:
        cells = {f: row.values[c] for c, f in columns.items() if c in row.values}
        given.setdefault(key_of(row), {}).update(cells)
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


def item_batch(
    rows: Iterable[tuple[ImportRow, Place]],
    statuses: dict[ItemKey, tuple[str, date | None]],
    submission: tuple[int, str],
    outcome: Outcome,
) -> ItemBatch:
    """The records of ``rows`` (rows whose status move the workflow forbids, or that date
    a change before the current status's date, are rejected). ``statuses`` holds the
    stored items' statuses and their dates and follows the batch; ``submission`` is its id
    and organisation."""
    batch = ItemBatch()
    for row, place in rows:
        key = (place.holder_id, row.values["manufacturer"], row.values["serial_number"])
        current, since = statuses.get(key, (None, None))
        status = row.values.get("status") or current or OperatingStatus.IN_USE.value
        changed = current is not None and status != current
        if changed:
            # A change is dated: by the row, else by the day it is imported.
            row.values.setdefault("status_since", utcnow().date())
            problem = _change_problem(row, current, status, since)
            if problem is not None:
                outcome.reject(row, *problem)
                continue
        outcome.counts.rows_imported += 1
        if current is None or changed:
            batch.events[key] = _event(row, current, status)
        statuses[key] = (status, row.values.get("status_since") if changed else since)
        batch.items[key] = {
            **{f: row.values.get(f, default) for f, default in ITEM_FIELDS.items()},
            "holder_id": place.holder_id,
            "site_id": place.site_id,
            "department_code": place.ubigeo[:2],
            "status": status,
            "status_since": row.values.get("status_since"),
            "submission_id": submission[0],
            "org_code": submission[1],
        }
        if row.analysis is not None:
            a = row.analysis
            batch.analyses[(key, a["method"], a["analysed_on"], a["sample_ref"])] = a
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


def item_key(record: dict[str, Any]) -> ItemKey:
    """The natural key of an item record within its submission."""
    return (record["holder_id"], record["manufacturer"], record["serial_number"])


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
