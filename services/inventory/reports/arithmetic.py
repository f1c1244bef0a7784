"""The arithmetic of the reports, on grouped rows the database has already counted and
summed (a handful per group, never the items): PCB tallies, shares and deadlines,
UP-POPs sums that keep "not determined" apart, mercury sums.

Pure functions, no I/O, Decimal only. The SQL that yields the rows is ``queries``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from services.inventory.factors.rules import is_teq, release_unit
from services.inventory.pcb.mass import MassMethod
from services.inventory.pcb.rules import PCB_CLASSES, OperatingStatus, Thresholds

_PCB = {c.value for c in PCB_CLASSES}
_IN_SERVICE = {OperatingStatus.IN_USE.value, OperatingStatus.STANDBY.value}
# Managed for ESM: eliminated. A decontaminated item counts only once verified by a GC
# result <= 50 mg/kg, and such an item is non-PCB and not contaminated, so out of the
# counts anyway; a decontaminated item still of a PCB class awaits verification.
_MANAGED = {OperatingStatus.ELIMINATED.value}
ELIMINATED = OperatingStatus.ELIMINATED.value


@dataclass(frozen=True)
class PcbGroup:
    """One group of items: its keys and what the report needs to know about them."""

    keys: tuple[Any, ...]
    pcb_class: str
    status: str
    # How the fluid / total masses were obtained (``classes.fluid_basis_sql``,
    # ``classes.total_basis_sql``): measured, estimated, or why they were not weighed.
    fluid_basis: str
    total_basis: str
    contaminated: bool  # proven above 0.005 % whatever the volume (ESM applies)
    labelled: bool | None
    in_food_feed_area: bool | None
    screening_only: bool | None
    items: int
    total_mass_kg: Decimal
    fluid_mass_kg: Decimal


def merge(groups: list[PcbGroup]) -> list[PcbGroup]:
    """Groups with the same keys and facts added up (cells and items yield the same ones)."""
    merged: dict[tuple[Any, ...], PcbGroup] = {}
    for g in groups:
        key = (
            g.keys,
            g.pcb_class,
            g.status,
            g.fluid_basis,
            g.total_basis,
            g.contaminated,
            g.labelled,
            g.in_food_feed_area,
            g.screening_only,
        )
        found = merged.get(key)
        merged[key] = (
            g
            if found is None
            else replace(
                g,
                items=found.items + g.items,
                total_mass_kg=found.total_mass_kg + g.total_mass_kg,
                fluid_mass_kg=found.fluid_mass_kg + g.fluid_mass_kg,
            )
        )
    return list(merged.values())


def groups_of(rows: Sequence[Any], n: int, flags: bool) -> list[PcbGroup]:
    """Grouped rows as groups: ``n`` key columns, class, status, fluid and total mass
    basis, contamination whatever the volume, (with ``flags``) label, location and
    screening-only evidence, then items, total and fluid mass."""
    out = []
    for row in rows:
        f = n + 5
        extra = (bool(row[f]), bool(row[f + 1]), bool(row[f + 2])) if flags else (None, None, None)
        out.append(
            PcbGroup(
                keys=tuple(row[:n]),
                pcb_class=row[n],
                status=row[n + 1],
                fluid_basis=row[n + 2],
                total_basis=row[n + 3],
                contaminated=bool(row[n + 4]),
                labelled=extra[0],
                in_food_feed_area=extra[1],
                screening_only=extra[2],
                items=int(row[-3]),
                total_mass_kg=Decimal(row[-2]),
                fluid_mass_kg=Decimal(row[-1]),
            )
        )
    return out


def without_flags(groups: Sequence[PcbGroup]) -> list[PcbGroup]:
    """The groups with the facts the flags need forgotten (reports that show no flags)."""
    return [replace(g, labelled=None, in_food_feed_area=None, screening_only=None) for g in groups]


def split(rows: Sequence[tuple[Any, ...]], n: int) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
    """Rows by their first ``n`` columns (the rest of each row under its key)."""
    out: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        out[tuple(row[:n])].append(tuple(row[n:]))
    return out


def _tonnes(kg: Decimal) -> Decimal:
    return (kg / 1000).quantize(Decimal("0.001"))


def _share(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


DENSITY_PREFIX = "density:"  # classes.DENSITY_BASIS_PREFIX (reports import no SQL here)


def _estimated_fluid(g: PcbGroup) -> bool:
    return g.fluid_basis.startswith(DENSITY_PREFIX)


def _weighed_fluid(g: PcbGroup) -> bool:
    return g.fluid_basis == MassMethod.MEASURED.value or _estimated_fluid(g)


@dataclass
class _Tally:
    """Items and masses; what could not be weighed is counted, never summed as zero."""

    items: int = 0
    total_mass_kg: Decimal = Decimal(0)
    fluid_mass_kg: Decimal = Decimal(0)
    items_not_weighed: int = 0
    fluid_items_not_weighed: int = 0
    estimated_total_mass_kg: Decimal = Decimal(0)
    estimated_fluid_mass_kg: Decimal = Decimal(0)

    def add(self, g: PcbGroup) -> None:
        self.items += g.items
        self.total_mass_kg += g.total_mass_kg
        self.fluid_mass_kg += g.fluid_mass_kg
        if g.total_basis == MassMethod.NOT_WEIGHED.value:
            self.items_not_weighed += g.items
        elif g.total_basis == MassMethod.DRY_PLUS_FLUID.value:
            self.estimated_total_mass_kg += g.total_mass_kg
        if _estimated_fluid(g):
            self.estimated_fluid_mass_kg += g.fluid_mass_kg
        elif not _weighed_fluid(g):
            self.fluid_items_not_weighed += g.items

    def out(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total_mass_t": _tonnes(self.total_mass_kg),
            "fluid_mass_t": _tonnes(self.fluid_mass_kg),
            "items_not_weighed": self.items_not_weighed,
            "fluid_items_not_weighed": self.fluid_items_not_weighed,
            "estimated_total_mass_t": _tonnes(self.estimated_total_mass_kg),
            "estimated_fluid_mass_t": _tonnes(self.estimated_fluid_mass_kg),
        }


def weighing(groups: Sequence[PcbGroup], densities: dict[str, Decimal]) -> dict[str, Any]:
    """How the summary's masses were obtained: items not weighed by reason, and the fluid
    mass estimated from volumes, by fluid kind with the density used."""
    total_reasons: dict[str, int] = defaultdict(int)
    fluid_reasons: dict[str, int] = defaultdict(int)
    estimates: dict[str, _Tally] = defaultdict(_Tally)
    for g in groups:
        if g.total_basis == MassMethod.NOT_WEIGHED.value:
            # Without a total, the fluid alone would understate it: say which part is missing.
            total_reasons["no_total_or_dry_mass"] += g.items
        if _estimated_fluid(g):
            estimates[g.fluid_basis.removeprefix(DENSITY_PREFIX)].add(g)
        elif not _weighed_fluid(g):
            fluid_reasons[g.fluid_basis] += g.items
    return {
        "total_mass_not_weighed": dict(sorted(total_reasons.items())),
        "fluid_mass_not_weighed": dict(sorted(fluid_reasons.items())),
        "fluid_mass_estimates": [
            {
                "fluid_kind": kind,
                "method": MassMethod.VOLUME_X_DENSITY.value,
                "density_kg_per_l": densities.get(kind),
                "items": t.items,
                "fluid_mass_t": _tonnes(t.fluid_mass_kg),
            }
            for kind, t in sorted(estimates.items())
        ],
    }


def pcb_summary(
    groups: Sequence[PcbGroup],
    thresholds: Thresholds,
    as_of: date,
    densities: dict[str, Decimal],
) -> dict[str, Any]:
    """The PCB part of a summary, from grouped counts (a handful of rows, not items)."""
    by_class: dict[str, _Tally] = defaultdict(_Tally)
    by_status: dict[str, _Tally] = defaultdict(_Tally)
    cells: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    totals = _Tally()
    pcb_items = eliminated = in_service = not_managed = 0
    pcb_mass = eliminated_mass = Decimal(0)
    flags = {"label_missing": 0, "prohibited_location": 0, "needs_gc_confirmation": 0}
    for g in groups:
        for tally in (
            by_class[g.pcb_class],
            by_status[g.status],
            cells[(g.pcb_class, g.status)],
            totals,
        ):
            tally.add(g)
        is_pcb = g.pcb_class in _PCB
        if is_pcb:
            pcb_items += g.items
            pcb_mass += g.total_mass_kg
            if g.status == ELIMINATED:
                eliminated += g.items
                eliminated_mass += g.total_mass_kg
            if g.status in _IN_SERVICE:
                in_service += g.items
        if (is_pcb or g.contaminated) and g.status not in _MANAGED:
            # Annex A Part II (e): ESM of liquids and equipment above 0.005 %, any volume.
            not_managed += g.items
        if g.labelled is not None:
            if g.pcb_class in ("P1", "P2") and not g.labelled and g.status != ELIMINATED:
                flags["label_missing"] += g.items
            if is_pcb and g.in_food_feed_area and g.status != ELIMINATED:
                flags["prohibited_location"] += g.items
            if g.screening_only:
                flags["needs_gc_confirmation"] += g.items

    use_due = as_of <= thresholds.use_deadline
    esm_due = as_of <= thresholds.esm_deadline
    summary: dict[str, Any] = {
        **totals.out(),
        "by_class": {k: v.out() for k, v in sorted(by_class.items())},
        "by_status": {k: v.out() for k, v in sorted(by_status.items())},
        "by_class_and_status": [
            {"pcb_class": c, "status": s, **v.out()} for (c, s), v in sorted(cells.items())
        ],
        "weighing": weighing(groups, densities),
        "pcb_items": pcb_items,
        "pcb_items_eliminated": eliminated,
        "share_eliminated": _share(eliminated, pcb_items),
        "share_eliminated_by_mass": _share(eliminated_mass, pcb_mass),
        "deadlines": {
            "use": {
                "deadline": thresholds.use_deadline,
                "items_due": in_service if use_due else 0,
                "items_overdue": 0 if use_due else in_service,
            },
            "esm": {
                "deadline": thresholds.esm_deadline,
                "items_due": not_managed if esm_due else 0,
                "items_overdue": 0 if esm_due else not_managed,
            },
        },
    }
    if any(g.labelled is not None for g in groups) or not groups:
        summary["flags"] = flags
    return summary


def release_cell(value: Any, determined: int, nd: int, pollutant: str) -> dict[str, Any]:
    """One summed release of one pollutant (in its unit): the determined sum, and whether
    ND parts were left out."""
    if determined:
        status = "determined"
    elif nd:
        status = "not_determined"
    else:
        status = "not_applicable"
    release = Decimal(value) if determined else None
    return {
        "status": status,
        "release": release,
        "unit": release_unit(pollutant),
        "release_g_teq_per_year": release if is_teq(pollutant) else None,
        "complete": nd == 0,
        "not_determined_parts": int(nd),
    }


# The order totals are listed in (Annex C): PCDD/PCDF, dl-PCB, HCB, PeCBz.
POLLUTANT_ORDER = ("pcdd_pcdf", "dl_pcb", "hcb", "pecbz")


def _order(key: tuple[str, str]) -> tuple[int, str, str]:
    pollutant, scheme = key
    rank = POLLUTANT_ORDER.index(pollutant) if pollutant in POLLUTANT_ORDER else 99
    return rank, pollutant, scheme


def pollutant_total(pollutant: str, scheme: str, rows: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
    """The releases of one pollutant under one TEQ scheme ("" for a mass pollutant) by
    source group and vector, and their total, labelled with their unit. Rows: source
    group, vector, determined sum, determined, ND and NA counts."""
    by_group: dict[str, dict[str, Any]] = {}
    sums: dict[str, Decimal] = {}
    counts: dict[str, tuple[int, int]] = {}
    for group, vector, value, determined, nd, _na in rows:
        by_group.setdefault(group, {})[vector] = release_cell(value, determined, nd, pollutant)
        sums[vector] = sums.get(vector, Decimal(0)) + Decimal(value or 0)
        d0, n0 = counts.get(vector, (0, 0))
        counts[vector] = (d0 + int(determined), n0 + int(nd))
    nd_parts = sum(c[1] for c in counts.values())
    unit = release_unit(pollutant)
    return {
        "pollutant": pollutant,
        "teq_scheme": scheme or None,
        "unit": unit,
        "label": f"{unit} ({scheme})" if scheme else unit,
        "by_source_group": by_group,
        "by_vector": {v: release_cell(sums[v], *counts[v], pollutant) for v in counts},
        "determined": sum(sums.values(), Decimal(0)),
        "complete": nd_parts == 0,
        "not_determined_parts": nd_parts,
    }


def upops_summary(rows: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
    """The UP-POPs part of a summary: one total per pollutant and TEQ scheme (rows:
    pollutant, scheme, source group, vector, sums), never one across them.

    ``by_source_group``, ``by_vector`` and ``determined_g_teq_per_year`` (the shape before
    totals were split) are kept only when they are unambiguous: the summary holds one TEQ
    pollutant under one scheme (or nothing); otherwise they are null.
    """
    parts: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
    for pollutant, scheme, *rest in rows:
        parts[(pollutant, scheme or "")].append(tuple(rest))
    totals = [pollutant_total(p, s, parts[(p, s)]) for p, s in sorted(parts, key=_order)]
    nd_parts = sum(t["not_determined_parts"] for t in totals)
    legacy: dict[str, Any] = {
        "by_source_group": None,
        "by_vector": None,
        "determined_g_teq_per_year": None,
    }
    if not totals:
        legacy = {"by_source_group": {}, "by_vector": {}, "determined_g_teq_per_year": Decimal(0)}
    elif len(totals) == 1 and is_teq(totals[0]["pollutant"]):
        only = totals[0]
        legacy = {
            "by_source_group": only["by_source_group"],
            "by_vector": only["by_vector"],
            "determined_g_teq_per_year": only["determined"],
        }
    return {
        "totals": totals,
        **legacy,
        "complete": nd_parts == 0,
        "not_determined_parts": nd_parts,
    }


# Side by side (e.g. Peru's 2003 I-TEQ inventory and a 2024 WHO-2005 one): no conversion.
# The UNEP Toolkit (2013) gives no general factor between I-TEQ and WHO-TEQ totals (a TEQ
# depends on each source's congener profile, and the Toolkit's factors come with the scheme
# they were derived in); the stored reference pages searched (Toolkit 2013 Part I, the
# 2003 edition, TEF tables) give none either. So each total stays under its own scheme.
NO_CONVERSION = (
    "Not converted: the UNEP Toolkit (2013) gives no general conversion factor between "
    "TEQ schemes (I-TEQ, WHO-1998, WHO-2005); each total is shown under its own scheme "
    "and totals of different schemes or pollutants are never added."
)


def side_by_side(columns: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per pollutant and TEQ scheme found in any column (``totals`` of
    ``upops_summary``), with that total in each column, or None where the column has no
    figure under that scheme (a figure under another scheme is never moved here)."""
    keyed = [{(t["pollutant"], t["teq_scheme"] or ""): t for t in col} for col in columns]
    keys = sorted({k for col in keyed for k in col}, key=_order)
    rows = []
    for pollutant, scheme in keys:
        unit = release_unit(pollutant)
        cells = [col.get((pollutant, scheme)) for col in keyed]
        rows.append(
            {
                "pollutant": pollutant,
                "teq_scheme": scheme or None,
                "unit": unit,
                "label": f"{unit} ({scheme})" if scheme else unit,
                "values": [
                    None
                    if t is None
                    else {
                        "determined": t["determined"],
                        "complete": t["complete"],
                        "not_determined_parts": t["not_determined_parts"],
                    }
                    for t in cells
                ],
            }
        )
    return rows


# The mercury category kept apart in summaries (Minamata Convention, Article 7 and Annex C).
ASGM = "asgm"


def mercury_summary(rows: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
    """The mercury part of a summary: kg Hg/a by category and pathway, by Toolkit level
    (1: catalogue factors, 2: own factors) and pathway, ASGM apart from the rest, and
    totals. Rows are (category, level, pathway, kg)."""
    by_category: dict[str, dict[str, Decimal]] = {}
    by_level: dict[str, dict[str, Decimal]] = {}
    by_pathway: dict[str, Decimal] = {}
    asgm = {"asgm": Decimal(0), "other": Decimal(0)}
    for category, level, pathway, kg in rows:
        kg = Decimal(kg)
        cell = by_category.setdefault(category, {})
        cell[pathway] = cell.get(pathway, Decimal(0)) + kg
        per_level = by_level.setdefault(str(level), {})
        per_level[pathway] = per_level.get(pathway, Decimal(0)) + kg
        by_pathway[pathway] = by_pathway.get(pathway, Decimal(0)) + kg
        asgm["asgm" if category == ASGM else "other"] += kg
    return {
        "by_category": by_category,
        "category_totals_kg_per_year": {
            c: sum(p.values(), Decimal(0)) for c, p in by_category.items()
        },
        "by_level": by_level,
        "level_totals_kg_per_year": {
            level: sum(p.values(), Decimal(0)) for level, p in sorted(by_level.items())
        },
        "asgm_vs_rest_kg_per_year": asgm,
        "by_pathway": by_pathway,
        "total_kg_per_year": sum(by_pathway.values(), Decimal(0)),
    }
