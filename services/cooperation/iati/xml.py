"""IATI 2.03 XML: stream activities out, read them back.

``write_activities`` yields the document in pieces (the opening tag, then one serialised
``iati-activity`` at a time, then the closing tag) so that an export of thousands of
activities never holds more than one of them as a tree. ``parse_activities`` uses
``iterparse`` and drops each activity element once read, for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any, BinaryIO

from lxml import etree

from ._xml_read import XML_LANG, IatiParseError, activity_from_element
from .model import (
    DESCRIPTION_TYPE_GENERAL,
    IatiActivity,
    IatiBudget,
    IatiDocumentLink,
    IatiIndicator,
    IatiOrganisationRef,
    IatiResult,
    IatiTransaction,
)

__all__ = ["IATI_VERSION", "IatiParseError", "parse_activities", "write_activities"]

IATI_VERSION = "2.03"


def write_activities(activities: Iterable[IatiActivity], *, generated: datetime) -> Iterator[bytes]:
    """Stream an ``iati-activities`` document, one activity per chunk.

    ``generated`` (timezone-aware) becomes ``generated-datetime``. The schema wants at
    least one activity; an empty iterable still yields a well-formed document, which the
    schema check will then reject, so callers decide whether an empty export is an error.
    """
    yield (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<iati-activities version="'
        + IATI_VERSION.encode()
        + b'" generated-datetime="'
        + _datetime(generated).encode()
        + b'">\n'
    )
    for activity in activities:
        chunk: bytes = etree.tostring(
            activity_element(activity), encoding="UTF-8", xml_declaration=False, pretty_print=True
        )
        yield chunk
    yield b"</iati-activities>\n"


def parse_activities(data: bytes | BinaryIO) -> list[IatiActivity]:
    """Read every ``iati-activity`` in an IATI document (bytes or a binary file).

    Reads back everything ``write_activities`` writes; elements outside the model are
    ignored. Raises :class:`IatiParseError` (with the line number) on malformed XML or on a
    missing or unreadable required value.
    """
    source: Any = BytesIO(data) if isinstance(data, bytes | bytearray) else data
    # Entities and network access stay off: imports come from outside.
    events = etree.iterparse(
        source,
        events=("end",),
        tag="iati-activity",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
    )
    activities: list[IatiActivity] = []
    try:
        for _event, element in events:
            activities.append(activity_from_element(element))
            # Free what has been read: the element and the siblings before it.
            element.clear()
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise IatiParseError(exc.lineno or 0, str(exc.msg)) from exc
    return activities


def activity_element(activity: IatiActivity) -> Any:
    """Build the ``iati-activity`` element, children in the schema's order."""
    root = etree.Element("iati-activity")
    if activity.last_updated is not None:
        root.set("last-updated-datetime", _datetime(activity.last_updated))
    root.set(XML_LANG, activity.default_language)
    if activity.default_currency:
        root.set("default-currency", activity.default_currency)
    if activity.hierarchy is not None:
        root.set("hierarchy", str(activity.hierarchy))

    _sub(root, "iati-identifier").text = activity.identifier
    _org(root, "reporting-org", activity.reporting_org, required_name=True)
    _narratives(_sub(root, "title"), activity.titles)
    _descriptions(root, activity)
    for org in activity.participating_orgs:
        attributes = {"ref": org.ref, "type": org.type, "role": org.role}
        element = _sub(root, "participating-org", attributes | {"activity-id": org.activity_id})
        _narrative(element, org.name)
    _sub(root, "activity-status", {"code": activity.status})
    for day in activity.dates:
        _sub(root, "activity-date", {"type": day.type, "iso-date": _iso(day.iso_date)})
    _where_and_what(root, activity)
    for budget in activity.budgets:
        _budget(root, budget)
    for transaction in activity.transactions:
        _transaction(root, transaction)
    for link in activity.document_links:
        _document_link(root, link)
    for related in activity.related_activities:
        _sub(root, "related-activity", {"ref": related.ref, "type": related.type})
    for result in activity.results:
        _result(root, result)
    return root


def _descriptions(root: Any, activity: IatiActivity) -> None:
    """The general description (type 1), then the others as they came."""
    if activity.descriptions:
        description = _sub(root, "description", {"type": DESCRIPTION_TYPE_GENERAL})
        _narratives(description, activity.descriptions)
    for other in activity.other_descriptions:
        _narratives(_sub(root, "description", {"type": other.type}), other.texts)


def _where_and_what(root: Any, activity: IatiActivity) -> None:
    """Country, locations, sectors, tags and policy markers (they sit together in the schema)."""
    if activity.recipient_country:
        _sub(root, "recipient-country", {"code": activity.recipient_country})
    for location in activity.locations:
        element = _sub(root, "location", {"ref": location.ref})
        if location.name is not None:
            _narrative(_sub(element, "name"), location.name, required=True)
    for sector in activity.sectors:
        percentage = _decimal(sector.percentage)
        _sub(
            root,
            "sector",
            {"vocabulary": sector.vocabulary, "code": sector.code, "percentage": percentage},
        )
    for tag in activity.tags:
        attributes = {"vocabulary": tag.vocabulary, "vocabulary-uri": tag.vocabulary_uri}
        _narrative(_sub(root, "tag", attributes | {"code": tag.code}), tag.text)
    for marker in activity.policy_markers:
        attributes = {"vocabulary": marker.vocabulary, "code": marker.code}
        _sub(root, "policy-marker", attributes | {"significance": marker.significance})


def _budget(root: Any, budget: IatiBudget) -> None:
    element = _sub(root, "budget", {"type": budget.type, "status": budget.status})
    _sub(element, "period-start", {"iso-date": _iso(budget.period_start)})
    _sub(element, "period-end", {"iso-date": _iso(budget.period_end)})
    _value(element, budget.value, budget.currency, budget.value_date)


def _transaction(root: Any, transaction: IatiTransaction) -> None:
    element = _sub(root, "transaction")
    _sub(element, "transaction-type", {"code": transaction.type})
    _sub(element, "transaction-date", {"iso-date": _iso(transaction.date)})
    _value(element, transaction.value, transaction.currency, transaction.value_date)
    if transaction.description is not None:
        _narrative(_sub(element, "description"), transaction.description, required=True)
    if transaction.provider_org is not None:
        _org(element, "provider-org", transaction.provider_org)
    if transaction.receiver_org is not None:
        _org(element, "receiver-org", transaction.receiver_org)


def _document_link(root: Any, link: IatiDocumentLink) -> None:
    element = _sub(root, "document-link", {"url": link.url, "format": link.format})
    _narrative(_sub(element, "title"), link.title, required=True)
    _sub(element, "category", {"code": link.category})
    if link.language:
        _sub(element, "language", {"code": link.language})
    if link.document_date is not None:
        _sub(element, "document-date", {"iso-date": _iso(link.document_date)})


def _result(root: Any, result: IatiResult) -> None:
    aggregation = _bool(result.aggregation_status)
    element = _sub(root, "result", {"type": result.type, "aggregation-status": aggregation})
    _narrative(_sub(element, "title"), result.title, required=True)
    if result.description is not None:
        _narrative(_sub(element, "description"), result.description, required=True)
    for indicator in result.indicators:
        _indicator(element, indicator)


def _indicator(result: Any, indicator: IatiIndicator) -> None:
    attributes = {"measure": indicator.measure, "ascending": _bool(indicator.ascending)}
    element = _sub(result, "indicator", attributes)
    _narrative(_sub(element, "title"), indicator.title, required=True)
    baseline = indicator.baseline
    if baseline is not None:
        attributes = {"year": str(baseline.year), "iso-date": _iso(baseline.iso_date)}
        _sub(element, "baseline", attributes | {"value": baseline.value})
    for period in indicator.periods:
        period_element = _sub(element, "period")
        _sub(period_element, "period-start", {"iso-date": _iso(period.start)})
        _sub(period_element, "period-end", {"iso-date": _iso(period.end)})
        if period.target is not None:
            _sub(period_element, "target", {"value": period.target})
        if period.actual is not None:
            _sub(period_element, "actual", {"value": period.actual})


def _sub(parent: Any, tag: str, attributes: Mapping[str, str | None] | None = None) -> Any:
    """Append a child; attributes whose value is None are left out."""
    element = etree.SubElement(parent, tag)
    for name, value in (attributes or {}).items():
        if value is not None:
            element.set(name, value)
    return element


def _org(parent: Any, tag: str, org: IatiOrganisationRef, *, required_name: bool = False) -> None:
    element = _sub(parent, tag, {"ref": org.ref, "type": org.type})
    _narrative(element, org.name, required=required_name)


def _narrative(parent: Any, text: str, *, required: bool = False) -> None:
    """One narrative in the activity's default language; skipped when empty and optional."""
    if text or required:
        _sub(parent, "narrative").text = text


def _narratives(parent: Any, texts: Mapping[str, str]) -> None:
    """One narrative per language; an empty one when there are none (the schema needs one)."""
    if not texts:
        _sub(parent, "narrative").text = ""
    for language, text in texts.items():
        element = _sub(parent, "narrative")
        element.set(XML_LANG, language)
        element.text = text


def _value(parent: Any, value: Decimal, currency: str | None, value_date: date) -> None:
    element = _sub(parent, "value", {"currency": currency, "value-date": _iso(value_date)})
    element.text = _decimal(value)


def _decimal(value: Decimal | None) -> str | None:
    """xsd:decimal text: plain notation, never ``1E+3`` (which the schema rejects)."""
    if value is None:
        return None
    if not value.is_finite():
        raise ValueError(f"not a finite decimal: {value}")
    return format(value, "f")


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _datetime(value: datetime) -> str:
    """xsd:dateTime in UTC; naive values are refused rather than guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    # UTC keeps offsets xsd-valid (no seconds in the offset) and aware datetimes still
    # compare equal after a round trip.
    return value.astimezone(UTC).isoformat()
