"""Convention reports for one reporting year (issue 13 item 3), from validated data only:
Stockholm Article 15 (the PCB part, Annex A Part II, and the Annex C release inventory)
and Minamata Article 21 (the release and ASGM parts). The figures come from the same SQL
as the national reports (``queries.pcb_groups``, ``queries.estimate_groups``); which
question of the format each answers is ``convention_formats``.

A year whose submissions are not validated yet yields no figure at all, and says so: the
national scope (``submissions.service.current_ids``) never includes a draft.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.mercury.models import MercuryEstimate
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.mass import MassMethod
from services.inventory.pcb.rules import OperatingStatus
from services.inventory.pcb.schedules import Schedule, load_thresholds
from services.inventory.reports import arithmetic, queries
from services.inventory.reports import convention_formats as fmt
from services.inventory.reports.arithmetic import DENSITY_PREFIX, PcbGroup
from services.inventory.reports.convention_schemas import ConventionReportOut, FigureOut
from services.inventory.reports.curve_rules import tonnes
from services.inventory.reports.queries import Scope
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section

NO_DATA = "no_validated_data"
VALIDATED = "validated"
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
class _Figures:
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


def pcb_figures(groups: Mapping[int, Iterable[PcbGroup]]) -> _Figures:
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
    out = _Figures(sorted(groups))
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


def upops_figures(rows: Rows, rows_by_submission: Mapping[int, Rows]) -> _Figures:
    """The Annex C release inventory: per pollutant and TEQ scheme (never added across
    them), by source group and vector, and by vector in all groups; ND parts kept out of
    the sums and said."""
    out = _Figures(sorted(rows_by_submission))
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
) -> tuple[_Figures, _Figures]:
    """The release part (kg Hg/a by source category and pathway, and by pathway in all
    categories) and the ASGM part (kg Hg/a by department and pathway). Rows: category,
    level, pathway, kg (ASGM: the department first)."""
    sources = sorted(rows_by_submission)
    releases = _Figures(sources)
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
    asgm = _Figures(sources)
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


async def _by_submission(
    session: AsyncSession, submissions: Sequence[Submission], *, asgm: bool = False
) -> dict[int, Rows]:
    """The grouped estimate rows of each submission (ASGM: by department)."""
    out: dict[int, Rows] = {}
    for s in submissions:
        scope = Scope(submission_id=s.id)
        if asgm:
            out[s.id] = await queries.estimate_groups(
                session,
                scope,
                Section.MERCURY,
                by=[MercuryEstimate.department_code],
                where=[MercuryEstimate.category == arithmetic.ASGM],
            )
        else:
            out[s.id] = await queries.estimate_groups(session, scope, Section(s.section))
    return out


async def _sources(
    session: AsyncSession, year: int, sections: Iterable[Section]
) -> dict[Section, list[Submission]]:
    found: dict[Section, list[Submission]] = {}
    for section in sections:
        ids = Scope(year=year).ids(section)
        rows = await session.scalars(
            select(Submission).where(Submission.id.in_(ids)).order_by(Submission.id)
        )
        found[section] = list(rows)
    return found


def _section(section: str, title: str, urls: list[str], part: _Figures | None) -> dict[str, Any]:
    return {
        "section": section,
        "title": title,
        "status": VALIDATED if part is not None else NO_DATA,
        "sources_urls": urls,
        "figures": part.figures if part is not None else [],
    }


def _report(
    convention: str,
    article: str,
    year: int,
    schedule: Schedule | None,
    sections: list[dict[str, Any]],
    sources: dict[Section, list[Submission]],
) -> ConventionReportOut:
    submissions = [s for subs in sources.values() for s in subs]
    status = VALIDATED if submissions else NO_DATA
    note = None
    if not submissions:
        note = f"No validated data for {year}: submissions not yet validated are never included."
    elif any(s["status"] == NO_DATA for s in sections):
        missing = ", ".join(s["section"] for s in sections if s["status"] == NO_DATA)
        note = f"No validated data for {year} in: {missing}."
    return ConventionReportOut(
        convention=convention,
        article=article,
        year=year,
        schedule=schedule.value if schedule is not None else None,
        status=status,
        status_note=note,
        sections=sections,
        sources=[
            {
                "submission_id": s.id,
                "org_code": s.org_code,
                "year": s.year,
                "section": s.section,
                "revision": s.revision,
                "validated_at": s.validated_at,
            }
            for s in sorted(submissions, key=lambda s: s.id)
        ],
    )


async def stockholm_article_15(
    session: AsyncSession, year: int, schedule: Schedule
) -> ConventionReportOut:
    """The PCB part and the Annex C release inventory of ``year``."""
    await queries.tune_for_aggregates(session)
    sources = await _sources(session, year, (Section.PCB, Section.UPOPS))
    scope = Scope(year=year)
    pcb = upops = None
    if sources[Section.PCB]:
        thresholds, _ = await load_thresholds(session, schedule)
        densities = await load_densities(session)
        # Submission by submission (a handful a year), so each figure names its own.
        groups = {
            s.id: await queries.pcb_groups(
                session, Scope(submission_id=s.id), thresholds, densities, flags=False
            )
            for s in sources[Section.PCB]
        }
        pcb = pcb_figures(groups)
    if sources[Section.UPOPS]:
        rows = await queries.estimate_groups(session, scope, Section.UPOPS)
        upops = upops_figures(rows, await _by_submission(session, sources[Section.UPOPS]))
    sections = [
        _section(
            "annex_a_part_ii_pcb",
            "PCB: progress in eliminating PCBs (Annex A Part II, format Part C)",
            [fmt.ERS_PART_C, fmt.SC_2_18, fmt.PCB_REVIEW, fmt.POPS_REPORTING],
            pcb,
        ),
        _section(
            "annex_c_releases",
            "Annex C release inventory by source group, pollutant and vector",
            [fmt.TOOLKIT_REPORTING],
            upops,
        ),
    ]
    return _report("stockholm", "15", year, schedule, sections, sources)


async def minamata_article_21(session: AsyncSession, year: int) -> ConventionReportOut:
    """The release and ASGM parts of ``year``."""
    sources = await _sources(session, year, (Section.MERCURY,))
    releases = asgm = None
    if sources[Section.MERCURY]:
        scope = Scope(year=year)
        rows = await queries.estimate_groups(session, scope, Section.MERCURY)
        asgm_rows = await queries.estimate_groups(
            session,
            scope,
            Section.MERCURY,
            by=[MercuryEstimate.department_code],
            where=[MercuryEstimate.category == arithmetic.ASGM],
        )
        submissions = sources[Section.MERCURY]
        releases, asgm = mercury_figures(
            rows,
            asgm_rows,
            await _by_submission(session, submissions),
            await _by_submission(session, submissions, asgm=True),
        )
    urls = [fmt.MINAMATA_FORMAT, fmt.MINAMATA_DRAFT_FORMAT]
    sections = [
        _section(
            "releases",
            "Mercury emissions and releases by source category and pathway (Articles 8 and 9)",
            urls,
            releases,
        ),
        _section(
            "asgm",
            "Artisanal and small-scale gold mining by department (Article 7)",
            [*urls, fmt.MINAMATA_NAP],
            asgm,
        ),
    ]
    return _report("minamata", "21", year, None, sections, sources)
