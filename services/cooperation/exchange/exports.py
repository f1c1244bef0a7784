"""The streamed IATI 2.03 XML export: each work program as the parent activity, its
activities as children (batched as every export is: see ``activities.csv_export``).

Only published activities are ever in it, whoever asks: a draft's identifier can still
change, and a donor who stored ``...-DRAFT-1`` would be left with a dangling record."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import date

from lxml import etree
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.csv_export import exported_batches, snapshot
from services.cooperation.activities.filters import ActivityFilters, filter_clauses
from services.cooperation.activities.iati_kept import merged_element
from services.cooperation.activities.iati_map import activity_iati, program_iati
from services.cooperation.activities.models import Activity, ActivityChange
from services.cooperation.activities.state import Refs, load_refs
from services.cooperation.activities.state_rows import Exported
from services.cooperation.bindings.iati import annotate
from services.cooperation.bindings.models import IndicatorBinding
from services.cooperation.bindings.service import all_bindings
from services.cooperation.iati.xml import activity_element, write_activities
from services.cooperation.programs.models import WorkProgram
from shared.db import Database, utcnow

ID_BATCH = 5000


def published(seen: ColumnElement[bool]) -> ColumnElement[bool]:
    """What an IATI export of ``seen`` holds: the published activities among them."""
    return and_(seen, Activity.published_at.is_not(None))


async def _children(
    session: AsyncSession, seen: ColumnElement[bool], filters: ActivityFilters, program_id: int
) -> AsyncIterator[list[str]]:
    """Identifiers of the exported activities of one program, in id order, in batches."""
    stmt = select(Activity.id, Activity.identifier).where(
        seen, Activity.program_id == program_id, *filter_clauses(filters)
    )
    last = 0
    while True:
        rows = list(
            await session.execute(
                stmt.where(Activity.id > last).order_by(Activity.id).limit(ID_BATCH)
            )
        )
        if not rows:
            return
        last = rows[-1][0]
        yield [r[1] for r in rows]


def _related(identifiers: Iterable[str]) -> bytes:
    out = []
    for identifier in identifiers:
        element = etree.Element("related-activity", ref=identifier, type="2")
        out.append(b"  " + etree.tostring(element) + b"\n")
    return b"".join(out)


async def program_parts(
    session: AsyncSession,
    refs: Refs,
    seen: ColumnElement[bool],
    filters: ActivityFilters,
    today: date,
) -> AsyncIterator[bytes]:
    """Each program in scope as a parent activity listing its children."""
    programs = [p for p in refs.programs.values() if filters.program in (None, p.program.code)]
    for program in sorted(programs, key=lambda p: p.program.code):
        newest = await session.scalar(
            select(func.max(ActivityChange.at)).where(
                ActivityChange.program_id == program.program.id
            )
        )
        updated = max(filter(None, (program.program.updated_at, newest)))
        parent = program_iati(program, refs, updated, today)
        if parent is None:
            continue
        xml = etree.tostring(activity_element(parent), encoding="UTF-8", pretty_print=True)
        # Related activities come last among the elements a program has, so the children
        # can be streamed in right before the closing tag.
        head, _, _ = xml.rpartition(b"</iati-activity>")
        yield head
        async for identifiers in _children(session, seen, filters, program.program.id):
            yield _related(identifiers)
        yield b"</iati-activity>\n"


async def anything_to_export(
    session: AsyncSession, seen: ColumnElement[bool], filters: ActivityFilters
) -> bool:
    """True when the export would hold at least one program or activity."""
    programs = select(WorkProgram.id).where(WorkProgram.reporting_org_id.is_not(None))
    if filters.program is not None:
        programs = programs.where(WorkProgram.code == filters.program)
    if await session.scalar(programs.limit(1)) is not None:
        return True
    stmt = select(Activity.id).where(published(seen), *filter_clauses(filters))
    return await session.scalar(stmt.limit(1)) is not None


async def iati_document(
    db: Database, seen: ColumnElement[bool], filters: ActivityFilters
) -> AsyncIterator[bytes]:
    """The IATI activities document, in pieces (published activities only)."""
    seen = published(seen)
    opening, closing = write_activities([], generated=utcnow())
    today = utcnow().date()
    async with db.sessions() as session:
        await snapshot(session)
        refs = await load_refs(session)
        bound = await all_bindings(session)
        # After the first read: the database failing at the start is a 503, not a cut 200.
        yield opening
        async for part in program_parts(session, refs, seen, filters, today):
            yield part
        render = lambda batch: b"".join(  # noqa: E731
            activity_xml(item, refs, bound.get(item.id, [])) for item in batch
        )
        async for chunk in exported_batches(session, refs, seen, filters, render):
            yield chunk
    yield closing


def activity_xml(
    item: Exported, refs: Refs, bindings: list[IndicatorBinding] | None = None
) -> bytes:
    """One ``iati-activity`` element, serialised; an imported one as it was sent, with the
    edits made here (``iati_kept``); actuals read from the inventory say so (``bindings``)."""
    iati = activity_iati(item.state, refs, item.updated_at)
    element = annotate(activity_element(iati), bindings or [])
    if item.state["iati_xml"]:
        element = merged_element(item.state, refs, element, item.updated_at)
    xml: bytes = etree.tostring(element, encoding="UTF-8", pretty_print=True)
    return xml
