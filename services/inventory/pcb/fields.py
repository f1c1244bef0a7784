"""A PCB item's field lists, derived from its schemas (declared once, in ``schemas.py``):
the CSV export's columns, and the fields a caller writes (what an import row carries).

The rules, explicit and small:

- CSV: every field of ``PcbItemOut`` in its order, except that ``effective_concentration``
  spreads over three ``concentration_*`` columns, ``fluid_mass`` and ``total_mass`` over
  four columns each (``fluid_mass_counted_kg``, ``fluid_mass_method`` ...),
  ``compliance_flags`` is joined with ``;`` and ``created_at`` is left out.
- Written fields: every field of ``PcbItemIn`` except those an import row gives another way
  (the holder by RUC, the site by name, the elimination evidence as disposal columns).
"""

from __future__ import annotations

from typing import Any

from services.inventory.pcb.schemas import PcbItemIn, PcbItemOut
from shared.exports import export_values

_CSV_SPREAD = {
    "effective_concentration": {
        "kind": "concentration_kind",
        "value_mg_per_kg": "concentration_mg_per_kg",
        "source": "concentration_source",
    },
    "status_as_of": {"status": "status_as_of", "since": "status_as_of_since"},
    "fluid_volume": {
        "litres": "fluid_volume_counted_l",
        "method": "fluid_volume_method",
        "density_kg_per_l": "fluid_volume_density_kg_per_l",
    },
    **{
        mass: {
            "kg": f"{mass}_counted_kg",
            "method": f"{mass}_method",
            "density_kg_per_l": f"{mass}_density_kg_per_l",
            "not_weighed_reason": f"{mass}_not_weighed_reason",
        }
        for mass in ("fluid_mass", "total_mass")
    },
}
_CSV_LEFT_OUT = frozenset({"created_at"})
_GIVEN_OTHERWISE = frozenset({"holder_id", "site_id", "elimination"})
# Elimination evidence (``EliminationIn``) field -> status-event column (and import column).
EVIDENCE_COLUMNS = {
    "disposal_facility": "disposal_facility",
    "country": "disposal_country",
    "disposed_on": "disposed_on",
    "certificate_ref": "certificate_ref",
    "mass_kg": "disposed_mass_kg",
}
# Set by the status history (status events), not with the item's other fields.
STATUS_FIELDS = ("status", "status_since")


# First in the CSV: the import's natural keys of the holder and the site, so that an
# export is a valid import (the ids after them are left out by an import, and listed).
CSV_KEYS = ("holder_ruc", "site_name")


def _csv_columns() -> tuple[str, ...]:
    columns: list[str] = list(CSV_KEYS)
    for name in PcbItemOut.model_fields:
        if name in _CSV_SPREAD:
            columns.extend(_CSV_SPREAD[name].values())
        elif name not in _CSV_LEFT_OUT:
            columns.append(name)
    return tuple(columns)


CSV_COLUMNS = _csv_columns()
# Field name -> default ("" never: a missing cell is None, a missing flag False).
WRITTEN_FIELDS: dict[str, Any] = {
    name: info.default if isinstance(info.default, bool) else None
    for name, info in PcbItemIn.model_fields.items()
    if name not in _GIVEN_OTHERWISE
}
# The item's own fields, without its status: what an import writes or updates as they are.
ITEM_FIELDS: dict[str, Any] = {
    name: default for name, default in WRITTEN_FIELDS.items() if name not in STATUS_FIELDS
}


def csv_row(out: PcbItemOut, holder_ruc: str | None, site_name: str | None) -> list[Any]:
    """One item as a row of ``CSV_COLUMNS`` (with its holder's RUC and its site's name)."""
    data = export_values(out)
    data["holder_ruc"], data["site_name"] = holder_ruc, site_name
    for name, columns in _CSV_SPREAD.items():
        spread = data.pop(name)
        data.update({column: spread[key] for key, column in columns.items()})
    data["compliance_flags"] = ";".join(data["compliance_flags"])
    return [data[c] for c in CSV_COLUMNS]
