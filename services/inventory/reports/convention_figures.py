"""The figures of the Convention reports from grouped rows (pure, no I/O): the PCB part
by Annex A Part II category and state, the Annex C releases, the mercury releases and
ASGM. Which question each answers is ``convention_formats``; the SQL is ``convention``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.inventory.pcb.mass import MassMethod
from services.inventory.pcb.rules import OperatingStatus
from services.inventory.reports import arithmetic
from services.inventory.reports import convention_formats as fmt
from services.inventory.reports.arithmetic import DENSITY_PREFIX, PcbGroup
from services.inventory.reports.convention_schemas import FigureOut
from services.inventory.reports.curve_rules import tonnes

_IN_SERVICE = {OperatingStatus.IN_USE.value, OperatingStatus.STANDBY.value}
_ELIMINATED = OperatingStatus.ELIMINATED.value
_CLASS_TO_CATEGORY = {cls: cat for cat, (cls, _rule) in fmt.PCB_CATEGORIES.items()}


def _category(g: PcbGroup) -> str | None:
    """The Annex A Part II category of a group (None: no PCB obligation)."""
    category = _CLASS_TO_CATEGORY.get(g.pcb_class)
    if category == "below_volume_rule" and not g.contaminated:
        return None  # non-PCB and not contaminated
    return category


def _states(g: PcbGroup) -> list[str]:
    states = ["identified"]
    states.append("in_use" if g.status in _IN_SERVICE else "removed_from_use")
    states.append("esm" if g.status == _ELIMINATED else "awaiting_esm")
    return states


@dataclass
class _Mass:
    items: int = 0
    total_kg: Decimal = Decimal(0)
    total_not_weighed: int = 0
    fluid_kg: Decimal = Decimal(0)
    fluid_not_weighed: int = 0
    submissions: set[int] = field(default_factory=set)

    def add(self, g: PcbGroup, submission_id: int) -> None:
        self.items += g.items
        self.submissions.add(submission_id)
        if g.total_basis == MassMethod.NOT_WEIGHED.value:
            self.total_not_weighed += g.items
        else:
            self.total_kg += g.total_mass_kg
        if g.fluid_basis == MassMethod.MEASURED.value or g.fluid_basis.startswith(DENSITY_PREFIX):
            self.fluid_kg += g.fluid_mass_kg
        else:
            self.fluid_not_weighed += g.items


@dataclass
class Figures:
    """Figures of one section. A figure's sources are the submissions holding what it
    counts; a figure nothing is counted in comes from every submission of the section
    (``sources``): none of them holds any."""

    sources: list[int]
    figures: list[FigureOut] = field(default_factory=list)

    def add(
        self, figure: str, question: str, metric: str | None, value: Any, unit: str, **kw: Any
    ) -> None:
        dims = kw.pop("dimensions", {})
        counted = sorted(kw.pop("counted_in", ()))
        status = kw.pop("status", "determined" if value is not None else "not_determined")
        self.figures.append(
            FigureOut(
                figure=figure,
                question=question,
                metric=metric,
                dimensions=dims,
                value=value,
                unit=unit,
                status=status,
                source_submissions=counted or self.sources,
                **kw,
            )
        )


_STATE_METRICS = {"in_use": "pcb_in_use", "esm": "pcb_eliminated_cumulative"}


def pcb_figures(groups: Mapping[int, Iterable[PcbGroup]]) -> Figures:
    """The PCB part from the groups of each submission: per Annex A Part II category (and
    all PCB categories together) and state, the equipment (items, t) and its liquids (t);
    unweighed items counted apart."""
    tallies: dict[tuple[str, str], _Mass] = {}
    unanalysed = _Mass()
    for sid, of_submission in groups.items():
        for g in of_submission:
            if not g.items:
                continue
            if g.pcb_class in ("presumed", "unknown") and g.status != _ELIMINATED:
                unanalysed.add(g, sid)
            category = _category(g)
            if category is None:
                continue
            keys = [category, "all_pcb"] if category in fmt.ALL_PCB else [category]
            for state in _states(g):
                for key in keys:
                    tallies.setdefault((key, state), _Mass()).add(g, sid)
    out = Figures(sorted(groups))
    for category in [*fmt.PCB_CATEGORIES, "all_pcb"]:
        if category == "all_pcb":
            cls, rule = "P1-P3, presumed", "every PCB category (i), (ii), (iii) and presumed"
        else:
            cls, rule = fmt.PCB_CATEGORIES[category]
        dims = {"category": category, "pcb_class": cls, "rule": rule}
        for state, question in fmt.PCB_STATES.items():
            t = tallies.get((category, state), _Mass())
            metric = _STATE_METRICS.get(state)
            prefix = f"pcb.{state}"
            common = {"dimensions": dims, "counted_in": t.submissions}
            out.add(f"{prefix}.equipment_items", question, metric, t.items, "items", **common)
            out.add(
                f"{prefix}.equipment_mass",
                question,
                metric,
                tonnes(t.total_kg),
                "t",
                not_weighed_items=t.total_not_weighed,
                **common,
            )
            out.add(
                f"{prefix}.liquid_mass",
                question,
                metric,
                tonnes(t.fluid_kg),
                "t",
                not_weighed_items=t.fluid_not_weighed,
                **common,
            )
    out.add(
        "pcb.unanalysed.items",
        fmt.PCB_UNANALYSED_QUESTION,
        "pcb_unanalysed",
        unanalysed.items,
        "items",
        counted_in=unanalysed.submissions,
    )
    return out


Rows = list[tuple[Any, ...]]


def _holders(rows_by_submission: Mapping[int, Rows], n: int) -> dict[tuple[Any, ...], set[int]]:
    """Which submissions have rows under each key (the first ``n`` columns), and under
    each key with ``all`` for its last part (the totals over it)."""
    found: dict[tuple[Any, ...], set[int]] = {}
    for sid, rows in rows_by_submission.items():
        for row in rows:
            key = tuple(row[:n])
            for k in (key, (*key[:-2], "all", key[-1])):
                found.setdefault(k, set()).add(sid)
    return found


def upops_figures(rows: Rows, rows_by_submission: Mapping[int, Rows]) -> Figures:
    """The Annex C release inventory: per pollutant and TEQ scheme (never added across
    them), by source group and vector, and by vector in all groups; ND parts kept out of
    the sums and said."""
    out = Figures(sorted(rows_by_submission))
    # A mass pollutant's scheme reads back as "" or NULL: one key either way.
    schemes_kept = {
        sid: [(p, scheme or "", *rest) for p, scheme, *rest in rows]
        for sid, rows in rows_by_submission.items()
    }
    holders = _holders(schemes_kept, 4)
    for total in arithmetic.upops_summary(rows)["totals"]:
        pollutant, scheme = total["pollutant"], total["teq_scheme"]
        metric = "pcdd_pcdf_releases" if pollutant == "pcdd_pcdf" else None
        unit = total["label"]
        cells = [
            (group, vector, cell)
            for group, vectors in total["by_source_group"].items()
            for vector, cell in vectors.items()
        ] + [("all", vector, cell) for vector, cell in total["by_vector"].items()]
        for group, vector, cell in cells:
            nd = cell["not_determined_parts"]
            out.add(
                "annex_c.release",
                fmt.ANNEX_C_QUESTION,
                metric,
                cell["release"],
                unit,
                dimensions={
                    "pollutant": pollutant,
                    "teq_scheme": scheme,
                    "source_group": group,
                    "vector": vector,
                },
                status=cell["status"],
                note=f"{nd} not-determined (ND) parts left out of the sum" if nd else None,
                counted_in=holders.get((pollutant, scheme or "", group, vector), ()),
            )
    return out


def mercury_figures(
    rows: Rows,
    asgm_rows: Rows,
    rows_by_submission: Mapping[int, Rows],
    asgm_by_submission: Mapping[int, Rows],
) -> tuple[Figures, Figures]:
    """The release part (kg Hg/a by source category and pathway, and by pathway in all
    categories) and the ASGM part (kg Hg/a by department and pathway). Rows: category,
    level, pathway, kg (ASGM: the department first)."""
    sources = sorted(rows_by_submission)
    releases = Figures(sources)
    holders = _holders(
        {sid: [(r[0], r[2]) for r in rows] for sid, rows in rows_by_submission.items()}, 2
    )
    asgm_holders = _holders(
        {sid: [(r[0], r[3]) for r in rows] for sid, rows in asgm_by_submission.items()}, 2
    )
    summary = arithmetic.mercury_summary(rows)
    cells = [
        (category, pathway, kg)
        for category, pathways in sorted(summary["by_category"].items())
        for pathway, kg in sorted(pathways.items())
    ] + [("all", p, kg) for p, kg in sorted(summary["by_pathway"].items())]
    for category, pathway, kg in cells:
        releases.add(
            "mercury.release",
            fmt.MERCURY_ARTICLES.get(pathway, fmt.MERCURY_OTHER_OUTPUT),
            "asgm_mercury_releases" if category == arithmetic.ASGM else None,
            kg,
            "kg Hg/a",
            dimensions={"category": category, "pathway": pathway},
            counted_in=holders.get((category, pathway), ()),
        )
    asgm = Figures(sources)
    by_department: dict[tuple[str | None, str], Decimal] = {}
    for department, *_category_and_level, pathway, kg in asgm_rows:
        key = (department, pathway)
        by_department[key] = by_department.get(key, Decimal(0)) + Decimal(kg)
    for (department, pathway), kg in sorted(
        by_department.items(), key=lambda k: (k[0][0] or "", k[0][1])
    ):
        asgm.add(
            "asgm.release",
            fmt.ASGM_QUESTION,
            "asgm_mercury_releases",
            kg,
            "kg Hg/a",
            dimensions={"department_code": department, "pathway": pathway},
            counted_in=asgm_holders.get((department, pathway), ()),
        )
    return releases, asgm
