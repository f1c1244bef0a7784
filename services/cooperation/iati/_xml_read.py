"""Reading one ``iati-activity`` element into the model (used by ``xml.parse_activities``).

Kept apart from the writer so each module stays readable; every reader reports the source
line of what it cannot read, which the import screen shows to the user.

The document has passed the 2.03 schema before it gets here, so every value is read as the
schema's types allow it (``xsd:date`` with a timezone, ``xsd:dateTime`` without an offset,
``xsd:decimal`` of any scale, surrounding white space); what the schema requires is there.
The only values refused are those Enlace cannot hold: dates outside the years 1 to 9999,
decimals of more than ``MAX_DECIMAL_DIGITS`` digits, whole numbers beyond 32 bits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from . import model
from .model import DESCRIPTION_TYPE_GENERAL, MAX_DECIMAL_DIGITS

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_T = TypeVar("_T")
INT32 = range(-(2**31), 2**31)
_TIMEZONE = r"(Z|[+-]\d{2}:\d{2})?"
_DATE = re.compile(r"(-?\d{4,})-(\d{2})-(\d{2})" + _TIMEZONE)
_DATETIME = re.compile(
    r"(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?" + _TIMEZONE
)


class IatiParseError(ValueError):
    """An IATI document that cannot be read into the model, with the offending line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def activity_from_element(element: Any) -> model.IatiActivity:
    """Read one ``iati-activity`` element into the model.

    Narratives without ``xml:lang`` are in the activity's ``xml:lang`` ("en" when that is
    missing too); attributes IATI lets publishers omit get IATI's defaults (vocabularies 1,
    budget type 1 and status 1), except ``hierarchy`` and ``last-updated-datetime``, which
    stay None when absent. The general description is ``descriptions`` (type 1 or no
    type, their narratives merged), the others ``other_descriptions``.
    """
    language = element.get(XML_LANG) or "en"
    descriptions: dict[str, str] = {}
    others = []
    for description in element.iterchildren("description"):
        kind = description.get("type")
        if kind in (None, DESCRIPTION_TYPE_GENERAL):
            descriptions.update(_texts(description, language))
        else:
            others.append(model.IatiDescription(kind, _texts(description, language)))
    country = element.find("recipient-country")
    hierarchy = element.get("hierarchy")
    stamp = element.get("last-updated-datetime")
    children = element.iterchildren
    return model.IatiActivity(
        identifier=(_required(element, "iati-identifier").text or "").strip(),
        reporting_org=_org_ref(_required(element, "reporting-org"), language),
        last_updated=None if stamp is None else _datetime(element, stamp),
        titles=_texts(element.find("title"), language),
        descriptions=descriptions,
        other_descriptions=tuple(others),
        participating_orgs=tuple(
            _participating_org(o, language) for o in children("participating-org")
        ),
        status=_attr(_required(element, "activity-status"), "code"),
        dates=tuple(
            model.IatiActivityDate(type=_attr(d, "type"), iso_date=_attr_date(d, "iso-date"))
            for d in children("activity-date")
        ),
        hierarchy=None if hierarchy is None else _int(element, hierarchy),
        default_currency=element.get("default-currency"),
        default_language=language,
        recipient_country=_attr(country, "code") if country is not None else None,
        locations=tuple(_location(location, language) for location in children("location")),
        sectors=tuple(_sector(s) for s in children("sector")),
        tags=tuple(_tag(t, language) for t in children("tag")),
        policy_markers=tuple(_policy_marker(m) for m in children("policy-marker")),
        budgets=tuple(_read_budget(b) for b in children("budget")),
        transactions=tuple(_read_transaction(t, language) for t in children("transaction")),
        document_links=tuple(_read_document_link(d, language) for d in children("document-link")),
        related_activities=tuple(
            model.IatiRelatedActivity(ref=_attr(r, "ref"), type=_attr(r, "type"))
            for r in children("related-activity")
        ),
        results=tuple(_read_result(r, language) for r in children("result")),
    )


def _location(element: Any, language: str) -> model.IatiLocation:
    name = element.find("name")
    return model.IatiLocation(
        name=None if name is None else _text(name, language), ref=element.get("ref")
    )


def _participating_org(element: Any, language: str) -> model.IatiParticipatingOrg:
    return model.IatiParticipatingOrg(
        role=_attr(element, "role"),
        ref=element.get("ref"),
        name=_text(element, language),
        type=element.get("type"),
        activity_id=element.get("activity-id"),
    )


def _sector(element: Any) -> model.IatiSector:
    return model.IatiSector(
        code=_attr(element, "code"),
        percentage=_opt_decimal(element, "percentage"),
        vocabulary=element.get("vocabulary") or "1",
    )


def _tag(element: Any, language: str) -> model.IatiTag:
    return model.IatiTag(
        code=_attr(element, "code"),
        text=_text(element, language),
        vocabulary=_attr(element, "vocabulary"),
        vocabulary_uri=element.get("vocabulary-uri"),
    )


def _policy_marker(element: Any) -> model.IatiPolicyMarker:
    return model.IatiPolicyMarker(
        code=_attr(element, "code"),
        significance=element.get("significance"),
        vocabulary=element.get("vocabulary") or "1",
    )


def _read_budget(element: Any) -> model.IatiBudget:
    value = _required(element, "value")
    return model.IatiBudget(
        period_start=_child_date(element, "period-start"),
        period_end=_child_date(element, "period-end"),
        value=_decimal_text(value),
        value_date=_attr_date(value, "value-date"),
        currency=value.get("currency"),
        type=element.get("type") or "1",
        status=element.get("status") or "1",
    )


def _read_transaction(element: Any, language: str) -> model.IatiTransaction:
    value = _required(element, "value")
    description = element.find("description")
    provider = element.find("provider-org")
    receiver = element.find("receiver-org")
    return model.IatiTransaction(
        type=_attr(_required(element, "transaction-type"), "code"),
        date=_child_date(element, "transaction-date"),
        value=_decimal_text(value),
        value_date=_attr_date(value, "value-date"),
        currency=value.get("currency"),
        description=_text(description, language) if description is not None else None,
        provider_org=_org_ref(provider, language) if provider is not None else None,
        receiver_org=_org_ref(receiver, language) if receiver is not None else None,
    )


def _read_document_link(element: Any, language: str) -> model.IatiDocumentLink:
    document_date = element.find("document-date")
    language_element = element.find("language")
    return model.IatiDocumentLink(
        url=_attr(element, "url"),
        format=_attr(element, "format"),
        title=_text(element.find("title"), language),
        category=_attr(_required(element, "category"), "code"),
        document_date=(
            _attr_date(document_date, "iso-date") if document_date is not None else None
        ),
        language=language_element.get("code") if language_element is not None else None,
    )


def _read_result(element: Any, language: str) -> model.IatiResult:
    description = element.find("description")
    return model.IatiResult(
        type=_attr(element, "type"),
        title=_text(element.find("title"), language),
        indicators=tuple(_read_indicator(i, language) for i in element.iterchildren("indicator")),
        aggregation_status=_opt_bool(element, "aggregation-status"),
        description=_text(description, language) if description is not None else None,
    )


def _read_indicator(element: Any, language: str) -> model.IatiIndicator:
    baseline = element.find("baseline")
    return model.IatiIndicator(
        measure=_attr(element, "measure"),
        title=_text(element.find("title"), language),
        ascending=_opt_bool(element, "ascending"),
        baseline=(
            model.IatiBaseline(
                year=_int(baseline, _attr(baseline, "year")),
                value=baseline.get("value"),
                iso_date=_attr_date(baseline, "iso-date") if baseline.get("iso-date") else None,
            )
            if baseline is not None
            else None
        ),
        periods=tuple(
            model.IatiPeriod(
                start=_child_date(p, "period-start"),
                end=_child_date(p, "period-end"),
                target=_child_attr(p, "target", "value"),
                actual=_child_attr(p, "actual", "value"),
            )
            for p in element.iterchildren("period")
        ),
    )


def _org_ref(element: Any, language: str) -> model.IatiOrganisationRef:
    return model.IatiOrganisationRef(
        ref=element.get("ref"), name=_text(element, language), type=element.get("type")
    )


def _texts(element: Any, language: str) -> dict[str, str]:
    """``{language: text}`` of an element's narratives (no xml:lang = activity's language)."""
    if element is None:
        return {}
    return {
        narrative.get(XML_LANG) or language: "".join(narrative.itertext())
        for narrative in element.iterchildren("narrative")
    }


def _text(element: Any, language: str) -> str:
    """The narrative in the activity's language, else the first one, else ``""``."""
    texts = _texts(element, language)
    return texts.get(language, next(iter(texts.values()), ""))


def _required(parent: Any, tag: str) -> Any:
    """The first ``tag`` child of ``parent``; its absence is a parse error at ``parent``."""
    child = parent.find(tag)
    if child is None:
        raise IatiParseError(parent.sourceline or 0, f"{parent.tag}: missing <{tag}>")
    return child


def _attr(element: Any, name: str) -> str:
    value = element.get(name)
    if value is None:
        raise IatiParseError(element.sourceline or 0, f"<{element.tag}>: missing @{name}")
    return str(value)


def _child_attr(element: Any, tag: str, name: str) -> str | None:
    child = element.find(tag)
    return None if child is None else child.get(name)


def _child_date(element: Any, tag: str) -> date:
    return _attr_date(_required(element, tag), "iso-date")


def _error(element: Any, what: str, text: str, why: str = "cannot read") -> IatiParseError:
    return IatiParseError(element.sourceline or 0, f"<{element.tag}> {what}: {why} {text!r}")


def _attr_date(element: Any, name: str) -> date:
    """An ``xsd:date``; a timezone after it (``2020-01-01Z``) is allowed and dropped: a day
    is kept as the day the publisher wrote."""
    text = _attr(element, name)
    found = _DATE.fullmatch(text.strip())
    if found is None:
        raise _error(element, f"@{name}", text)
    year, month, day = (int(part) for part in found.groups()[:3])
    return _convert(element, f"@{name}", text, lambda _: _day(year, month, day))


def _day(year: int, month: int, day: int) -> date:
    if not 1 <= year <= 9999:
        raise ValueError("only the years 1 to 9999 can be stored")
    return date(year, month, day)


def _datetime(element: Any, text: str) -> datetime:
    """An ``xsd:dateTime``. Without an offset it is taken to be UTC (IATI timestamps are
    meant to be; the schema allows leaving the offset out). ``24:00:00`` is the next day's
    midnight; fractions of a second beyond microseconds are cut."""
    found = _DATETIME.fullmatch(text.strip())
    if found is None:
        raise _error(element, "@last-updated-datetime", text)
    year, month, day, hour, minute, second = (int(part) for part in found.groups()[:6])
    fraction, zone = found.group(7) or "", found.group(8)
    micro = int((fraction + "000000")[:6])

    def build(_: str) -> datetime:
        start, midnight = _day(year, month, day), hour == 24
        tz = UTC if zone in (None, "Z") else _offset(zone)
        clock = datetime(
            start.year, start.month, start.day, 0 if midnight else hour, minute, second, micro, tz
        )
        if midnight and (minute, second, micro) != (0, 0, 0):
            raise ValueError("24:00:00 is the only time with hour 24")
        return clock + timedelta(days=1) if midnight else clock

    return _convert(element, "@last-updated-datetime", text, build)


def _offset(zone: str) -> timezone:
    sign = -1 if zone[0] == "-" else 1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _decimal(element: Any, what: str, text: str) -> Decimal:
    """An ``xsd:decimal`` (``+1.5``, ``.5``, ``5.``), exactly, at most MAX_DECIMAL_DIGITS."""
    value = _convert(element, what, text.strip(), Decimal)
    digits, exponent = len(value.as_tuple().digits), value.as_tuple().exponent
    if not value.is_finite() or not isinstance(exponent, int):
        raise _error(element, what, text)
    if digits > MAX_DECIMAL_DIGITS or abs(exponent) > MAX_DECIMAL_DIGITS:
        raise _error(element, what, text, f"more than {MAX_DECIMAL_DIGITS} digits in")
    return value


def _opt_decimal(element: Any, name: str) -> Decimal | None:
    text = element.get(name)
    return None if text is None else _decimal(element, f"@{name}", text)


def _decimal_text(element: Any) -> Decimal:
    return _decimal(element, "text", element.text or "")


def _opt_bool(element: Any, name: str) -> bool | None:
    text = element.get(name)
    if text is None:
        return None
    if text.strip() in ("true", "1"):
        return True
    if text.strip() in ("false", "0"):
        return False
    raise IatiParseError(element.sourceline or 0, f"@{name}: not a boolean: {text!r}")


def _int(element: Any, text: str) -> int:
    """A whole number (``xsd:int``, ``xsd:positiveInteger``), held in 32 bits."""
    value = _convert(element, "integer", text.strip(), int)
    if value not in INT32:
        raise _error(element, "integer", text, "too large to store:")
    return value


def _convert(element: Any, what: str, text: str, convert: Callable[[str], _T]) -> _T:
    try:
        return convert(text)
    except (ValueError, InvalidOperation, OverflowError) as exc:
        raise _error(element, what, text, f"cannot read ({exc})") from exc
