"""The IATI 2.03 organisation file (``iati-organisations``) of a reporting organisation.

What the data holds about the organisation: its identifier, its name in English and
Spanish, itself as reporting organisation, and the budgets derived from the budgets of the
activities it reports (published ones the caller may see, as in the activity export):

- ``total-budget``: per budget period and currency, the sum of its activities' budgets for
  exactly that period (a revised budget replacing the original of its activity's period,
  as everywhere in Enlace); status 2 (committed) when every budget summed is committed,
  else 1 (indicative); the value date is the period's start;
- ``recipient-country-budget``: the same sums, per recipient country, over the activities
  that declare exactly one recipient country (an activity split between countries has no
  stated share of each budget per country, so it is left out of these);
- a ``document-link`` to its public activity file (``/v1/public/iati/activities.xml``
  filtered by ``reporting_org_ref``).

Valid against ``schemas/iati-organisations-schema.xsd`` (tested).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, localcontext
from typing import Any

from lxml import etree
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.models import Activity, Budget
from services.cooperation.exchange.exports import published
from services.cooperation.iati import DECIMAL_CONTEXT
from services.cooperation.iati.xml import IATI_VERSION
from services.cooperation.programs.models import Organisation, WorkProgram
from shared.db import utcnow

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
Period = tuple[date, date]


@dataclass
class _Sum:
    value: Decimal
    committed: bool


@dataclass(frozen=True)
class OrganisationFile:
    """What one organisation file says (before it is written as XML)."""

    organisation: Organisation
    updated: datetime
    total: dict[tuple[Period, str], _Sum]
    by_country: dict[tuple[str, Period, str], _Sum]
    activity_file: str


async def reporting_organisation(
    session: AsyncSession, seen: ColumnElement[bool], ref: str
) -> Organisation | None:
    """The organisation with IATI ref ``ref`` when it reports a program, or an activity
    the export of ``seen`` holds; else None."""
    org = await session.scalar(select(Organisation).where(Organisation.iati_ref == ref).limit(1))
    if org is None:
        return None
    program = select(WorkProgram.id).where(WorkProgram.reporting_org_id == org.id).limit(1)
    activity = (
        select(Activity.id).where(published(seen), Activity.reporting_org_id == org.id).limit(1)
    )
    if await session.scalar(program) is None and await session.scalar(activity) is None:
        return None
    return org


def _add(sums: dict[Any, _Sum], key: Any, value: Decimal, committed: bool) -> None:
    found = sums.get(key)
    if found is None:
        sums[key] = _Sum(value, committed)
    else:
        found.value += value
        found.committed = found.committed and committed


async def organisation_file(
    session: AsyncSession, seen: ColumnElement[bool], org: Organisation, activity_file: str
) -> OrganisationFile:
    """The budgets of the activities ``org`` reports (published, in ``seen``), summed."""
    mine = (published(seen), Activity.reporting_org_id == org.id)
    newest = await session.scalar(select(func.max(Activity.updated_at)).where(*mine))
    stmt = (
        select(
            Budget.activity_id,
            Budget.type,
            Budget.status,
            Budget.period_start,
            Budget.period_end,
            Budget.value,
            Budget.currency,
            Activity.default_currency,
            Activity.recipient_countries,
        )
        .join(Activity, Activity.id == Budget.activity_id)
        .where(*mine)
        .order_by(Budget.activity_id, Budget.id)
    )
    # Per activity and period: its revised budgets when it has any, else its originals.
    periods: dict[tuple[int, Period], list[Any]] = defaultdict(list)
    for row in await session.execute(stmt):
        periods[(row.activity_id, (row.period_start, row.period_end))].append(row)
    total: dict[tuple[Period, str], _Sum] = {}
    by_country: dict[tuple[str, Period, str], _Sum] = {}
    with localcontext(DECIMAL_CONTEXT):
        for (_activity, period), rows in periods.items():
            revised = [r for r in rows if r.type == "2"]
            for r in revised or rows:
                currency = r.currency or r.default_currency
                if not currency:
                    continue  # no currency at all: not summable (ruleset 7.8.1 says so)
                committed = r.status == "2"
                _add(total, (period, currency), Decimal(r.value), committed)
                countries = r.recipient_countries.split()
                if len(countries) == 1:
                    key = (countries[0], period, currency)
                    _add(by_country, key, Decimal(r.value), committed)
    updated = max(filter(None, (newest, org.updated_at)), default=utcnow())
    return OrganisationFile(org, updated, total, by_country, activity_file)


# --- XML ----------------------------------------------------------------------------------


def _sub(parent: Any, tag: str, attrib: dict[str, str] | None = None) -> Any:
    return etree.SubElement(parent, tag, attrib or {})


def _names(parent: Any, org: Organisation) -> None:
    _sub(parent, "narrative").text = org.name_en
    if org.name_es and org.name_es != org.name_en:
        _sub(parent, "narrative", {XML_LANG: "es"}).text = org.name_es


def _period(parent: Any, period: Period) -> None:
    _sub(parent, "period-start", {"iso-date": period[0].isoformat()})
    _sub(parent, "period-end", {"iso-date": period[1].isoformat()})


def _value(parent: Any, found: _Sum, currency: str, period: Period) -> None:
    attrib = {"currency": currency, "value-date": period[0].isoformat()}
    _sub(parent, "value", attrib).text = format(found.value, "f")


def _status(found: _Sum) -> dict[str, str]:
    return {"status": "2" if found.committed else "1"}


def _sorted(items: Iterable[tuple[Any, _Sum]]) -> list[tuple[Any, _Sum]]:
    return sorted(items, key=lambda kv: kv[0])


def organisation_element(found: OrganisationFile) -> Any:
    """The ``iati-organisation`` element, children in schema order."""
    org = found.organisation
    ref = org.iati_ref or ""
    stamp = found.updated.isoformat()
    root = etree.Element("iati-organisation", {"last-updated-datetime": stamp, XML_LANG: "en"})
    _sub(root, "organisation-identifier").text = ref
    _names(_sub(root, "name"), org)
    _names(_sub(root, "reporting-org", {"ref": ref, "type": org.iati_type}), org)
    for (period, currency), value in _sorted(found.total.items()):
        budget = _sub(root, "total-budget", _status(value))
        _period(budget, period)
        _value(budget, value, currency, period)
    for (country, period, currency), value in _sorted(found.by_country.items()):
        budget = _sub(root, "recipient-country-budget", _status(value))
        _sub(budget, "recipient-country", {"code": country})
        _period(budget, period)
        _value(budget, value, currency, period)
    link = _sub(root, "document-link", {"format": "application/xml", "url": found.activity_file})
    title = _sub(link, "title")
    _sub(title, "narrative").text = f"IATI activity file of {org.name_en}"
    _sub(
        title, "narrative", {XML_LANG: "es"}
    ).text = f"Archivo IATI de actividades de {org.name_es}"
    _sub(link, "category", {"code": "B16"})  # DocumentCategory B16: organisation web page
    return root


def organisation_document(found: OrganisationFile) -> bytes:
    """The whole ``iati-organisations`` 2.03 document of one organisation."""
    root = etree.Element(
        "iati-organisations",
        {"version": IATI_VERSION, "generated-datetime": utcnow().isoformat()},
    )
    root.append(organisation_element(found))
    xml: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return xml
