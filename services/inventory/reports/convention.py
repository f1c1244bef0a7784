"""Convention reports for one reporting year (issue 13 item 3), from validated data only:
Stockholm Article 15 (the PCB part, Annex A Part II, and the Annex C release inventory)
and Minamata Article 21 (the release and ASGM parts). The figures come from the same SQL
as the national reports (``queries.pcb_groups``, ``queries.estimate_groups``); which
question of the format each answers is ``convention_formats``.

A year whose submissions are not validated yet yields no figure at all, and says so: the
national scope (``submissions.service.current_ids``) never includes a draft.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.mercury.models import MercuryEstimate
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.schedules import Schedule, load_thresholds
from services.inventory.reports import arithmetic, queries
from services.inventory.reports import convention_formats as fmt
from services.inventory.reports.convention_figures import (
    Figures,
    Rows,
    mercury_figures,
    pcb_figures,
    upops_figures,
)
from services.inventory.reports.convention_schemas import ConventionReportOut
from services.inventory.reports.queries import Scope
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section

NO_DATA = "no_validated_data"
VALIDATED = "validated"


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


def _section(section: str, title: str, urls: list[str], part: Figures | None) -> dict[str, Any]:
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
