"""One import row: its columns, how each is read and checked, and the typed values.

Plain converter functions rather than a pydantic model: they name the column of every
problem, accept what spreadsheets produce (numbers as floats, booleans as "sí"/"x",
dates as datetimes) and cost a few microseconds a row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import Enum
from functools import lru_cache
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from services.inventory.countries import is_country
from services.inventory.pcb.fields import EVIDENCE_COLUMNS, WRITTEN_FIELDS
from services.inventory.pcb.fluids import fluid_kind_from_trade_name
from services.inventory.pcb.rules import (
    Analysis,
    AnalysisMethod,
    OperatingStatus,
)
from services.inventory.pcb.schemas import COUNTRY_PATTERN, AnalysisIn, EliminationIn, PcbItemIn
from services.inventory.pcb.status import EliminationEvidence, evidence_problems
from services.inventory.registry.rules import coordinates_in_peru, ruc_is_valid, ubigeo_is_valid
from services.inventory.vocabulary import Sector, SiteType


class CellError(ValueError):
    """What is wrong with one cell."""


Converter = Callable[[Any], Any]
_TRUE = {"true", "1", "yes", "y", "si", "sí", "s", "x", "verdadero"}
_FALSE = {"false", "0", "no", "n", "falso"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(max_length: int) -> Converter:
    def convert(value: Any) -> str:
        out = str(value).strip()
        if len(out) > max_length:
            raise CellError(f"longer than {max_length} characters")
        return out

    return convert


def decimal(
    places: int, max_digits: int, *, positive: bool = False, upper: Decimal | None = None
) -> Converter:
    quantum = Decimal(1).scaleb(-places)
    limit = Decimal(10) ** (max_digits - places)

    def convert(value: Any) -> Decimal:
        if isinstance(value, bool):
            raise CellError("not a number")
        try:
            number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            raise CellError("not a number") from None
        if not number.is_finite():
            raise CellError("not a finite number")
        if number < 0 or (positive and number == 0):
            raise CellError("must be greater than 0" if positive else "must not be negative")
        if number >= limit or (upper is not None and number > upper):
            raise CellError(f"must be below {upper if upper is not None else limit}")
        rounded = number.quantize(quantum)
        if rounded != number:
            raise CellError(f"more than {places} decimals")
        return rounded

    return convert


_COORDINATE = decimal(6, 9)


COORDINATE_PLACES = 6  # about 0.1 m: what a site's position needs


def coordinate(value: Any) -> Decimal:
    """Degrees (WGS84), rounded to 6 decimals (raw spreadsheet values carry 10 or more; the
    import notes the rounding); the sign is the hemisphere."""
    token = str(value).strip() if not isinstance(value, float | int | Decimal) else str(value)
    try:
        exact = Decimal(token)
    except InvalidOperation:
        raise CellError("not a number") from None
    if exact.is_finite() and -exact.as_tuple().exponent > COORDINATE_PLACES:  # type: ignore[operator]
        token = str(exact.quantize(Decimal(1).scaleb(-COORDINATE_PLACES), ROUND_HALF_EVEN))
    if token.startswith("-"):
        result: Decimal = -_COORDINATE(token[1:])
        return result
    return Decimal(_COORDINATE(token))


def integer(low: int, high: int) -> Converter:
    def convert(value: Any) -> int:
        if type(value) is str and (token := value.strip()).isascii() and token.isdigit():
            whole = int(token)  # the common cell, "1979": no Decimal needed
            if not low <= whole <= high:
                raise CellError(f"must be between {low} and {high}")
            return whole
        if isinstance(value, bool):
            raise CellError("not a whole number")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise CellError("not a whole number") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise CellError("not a whole number")
        if not low <= number <= high:
            raise CellError(f"must be between {low} and {high}")
        return int(number)

    return convert


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    token = str(value).strip().casefold()
    if token in _TRUE:
        return True
    if token in _FALSE:
        return False
    raise CellError("not true/false (also: sí/no, 1/0, x)")


def day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise CellError("not a date (YYYY-MM-DD)") from None


def past_day(value: Any) -> date:
    found = day(value)
    # The same "today" as the JSON API's checks (the UTC date), whatever the server's zone.
    if found > datetime.now(UTC).date():
        raise CellError("in the future")
    return found


def code(choices: type[Any]) -> Converter:
    allowed = {c.value for c in choices}

    def convert(value: Any) -> str:
        token = str(value).strip()
        if token not in allowed:
            raise CellError(f"not one of: {', '.join(sorted(allowed))}")
        return token

    return convert


@lru_cache(maxsize=65536)
def _valid_ruc(token: str) -> bool:
    # Files repeat a holder's RUC on every row of its equipment.
    return ruc_is_valid(token)


def _digits(value: Any) -> str:
    """A code as text; spreadsheets and JSON may give it as a number (150101, 1.5e4)."""
    if type(value) is str:
        return value.strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float | Decimal) and math.isfinite(value) and value == int(value):
        return str(int(value))
    return str(value).strip()


def ruc(value: Any) -> str:
    token = _digits(value)
    if not _valid_ruc(token):
        raise CellError("not a valid RUC (11 digits, prefix 10/15/17/20, check digit)")
    return token


@lru_cache(maxsize=65536)
def _valid_ubigeo(token: str) -> bool:
    return ubigeo_is_valid(token)


def ubigeo(value: Any) -> str:
    token = _digits(value)
    if not isinstance(value, str) and token.isdigit():
        token = token.zfill(6)  # 70106 as a number is UBIGEO 070106
    if not _valid_ubigeo(token):
        raise CellError("not a valid UBIGEO (6 digits, department 01-25)")
    return token


def country(value: Any) -> str:
    token = str(value).strip().upper()
    if not is_country(token):
        raise CellError("not an officially assigned ISO 3166-1 alpha-2 code")
    return token


def _constraints(info: FieldInfo) -> tuple[Any, dict[str, Any]]:
    """A schema field's type (``None`` unwrapped) and its constraints by name."""
    annotation, metadata = info.annotation, list(info.metadata)
    if get_origin(annotation) in (Union, UnionType):
        (inner,) = [a for a in get_args(annotation) if a is not type(None)]
        unwrapped = FieldInfo.from_annotation(inner)
        annotation, metadata = unwrapped.annotation, metadata + unwrapped.metadata
    found: dict[str, Any] = {}
    for item in metadata:
        for name in ("ge", "gt", "le", "max_length", "max_digits", "decimal_places", "pattern"):
            if getattr(item, name, None) is not None:
                found[name] = getattr(item, name)
    return annotation, found


def converter(info: FieldInfo) -> Converter:
    """The cell converter of a schema field, read from its type and constraints: the same
    limits as the JSON API, with the spreadsheet's spellings accepted."""
    kind, limits = _constraints(info)
    if kind is bool:
        return boolean
    if isinstance(kind, type) and issubclass(kind, Enum):
        return code(kind)
    if kind is int:
        return integer(limits["ge"], limits["le"])
    if kind is Decimal:
        upper = limits.get("le")
        return decimal(
            limits["decimal_places"],
            limits["max_digits"],
            positive="gt" in limits,
            upper=None if upper is None else Decimal(upper),
        )
    if kind is date:
        return past_day
    if limits.get("pattern") == COUNTRY_PATTERN:
        return country
    if kind is str:
        return text(limits["max_length"])
    raise TypeError(f"no import converter for {kind!r}")


def _columns(model: type[BaseModel], names: dict[str, str]) -> dict[str, Converter]:
    """Import columns of ``model``'s fields: column name -> converter."""
    return {column: converter(model.model_fields[field]) for field, column in names.items()}


# Import column -> schema field, for what a row names its own way.
EVIDENCE_FIELDS = EVIDENCE_COLUMNS
ANALYSIS_FIELDS = {
    "method": "analysis_method",
    "analysed_on": "analysis_date",
    "sample_ref": "analysis_sample_ref",
    "value_mg_per_kg": "analysis_value_mg_per_kg",
    "screening_cutoff_mg_per_kg": "analysis_cutoff_mg_per_kg",
    "screening_positive": "analysis_positive",
    "technique": "analysis_technique",
    "laboratory": "analysis_laboratory",
    "report_ref": "analysis_report_ref",
}
COLUMNS: dict[str, Converter] = {
    "holder_ruc": ruc,
    "holder_name": text(300),
    "holder_sector": code(Sector),
    "holder_is_public": boolean,
    "holder_contact_name": text(200),
    "holder_contact_email": text(254),
    "holder_contact_phone": text(40),
    "site_name": text(300),
    "site_address": text(500),
    "site_ubigeo": ubigeo,
    "site_latitude": coordinate,
    "site_longitude": coordinate,
    "site_type": code(SiteType),
    # The item's own columns are its schema's fields, under their names.
    **_columns(PcbItemIn, {name: name for name in WRITTEN_FIELDS}),
    **_columns(EliminationIn, EVIDENCE_FIELDS),
    **_columns(AnalysisIn, ANALYSIS_FIELDS),
}
_COORDINATES = frozenset({"site_latitude", "site_longitude"})
REQUIRED = ("holder_ruc", "site_name", "equipment_type", "manufacturer", "serial_number")
# What makes an analysis (the rules check that they fit together).
_ANALYSIS_FACTS = tuple(f.name for f in fields(Analysis))
_ANALYSIS = tuple(ANALYSIS_FIELDS[f] for f in _ANALYSIS_FACTS)
_EVIDENCE = tuple(EVIDENCE_FIELDS.values())
_ANALYSIS_SET, _EVIDENCE_SET = frozenset(_ANALYSIS), frozenset(_EVIDENCE)


@dataclass(slots=True)
class ImportRow:
    """A row that passed every check that needs no database."""

    number: int
    values: dict[str, Any]
    analysis: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    # Columns Enlace has no field for (``Observaciones``, say): left out, listed in the report.
    ignored: list[str] = field(default_factory=list)
    # What the import changed in a cell it accepted (column, what), listed in the report.
    notes: list[tuple[str, str]] = field(default_factory=list)


def parse_row(number: int, raw: dict[str, Any]) -> ImportRow:
    """Check and convert one row; its ``errors`` list every (column, reason) found."""
    row = ImportRow(number, {})
    unreadable = _unreadable(raw)
    if unreadable is not None:
        row.errors.append(("", unreadable))
        return row
    _convert_cells(row, raw)
    for column in REQUIRED:
        if column not in row.values and not any(c == column for c, _ in row.errors):
            row.errors.append((column, "required"))
    _check_place(row)
    _check_status(row)
    _check_analysis(row)
    _derive_fluid_kind(row)
    return row


def _unreadable(raw: dict[str, Any]) -> str | None:
    """Why the reader could not give this row as cells (the markers it puts instead), if so."""
    if "__extra__" in raw:
        return f"{raw['__extra__']} cells: more than the header has"
    if "__not_object__" in raw:
        return f"a JSON object is expected, not {raw['__not_object__']}"
    if "__invalid_json__" in raw:
        return f"invalid JSON: {raw['__invalid_json__']}"
    return None


def _convert_cells(row: ImportRow, raw: dict[str, Any]) -> None:
    """Every non-blank cell through its column's converter, into ``values`` or ``errors``."""
    values, errors = row.values, row.errors
    for column, value in raw.items():
        converter = COLUMNS.get(column)  # the keys are str: any other key finds none
        if converter is None:
            row.ignored.append(str(column)[:100])
            continue
        if value is None or (type(value) is str and not value.strip()):
            continue
        if column in _COORDINATES and _places(value) > COORDINATE_PLACES:
            row.notes.append((column, f"rounded to {COORDINATE_PLACES} decimals"))
        try:
            values[column] = converter(value)
        except CellError as exc:
            errors.append((column, str(exc)))
        except (ValueError, ArithmeticError, TypeError):
            # Whatever a file holds (NaN, 1e999, nested lists): a rejected cell, never a 500.
            errors.append((column, "not a valid value"))


def _derive_fluid_kind(row: ImportRow) -> None:
    """The fluid kind from the trade name, when the row gives a known name and no kind."""
    if row.values.get("fluid_kind") is None and row.values.get("fluid_trade_name"):
        derived = fluid_kind_from_trade_name(row.values["fluid_trade_name"])
        if derived is not None:
            row.values["fluid_kind"] = derived.value


def _places(value: Any) -> int:
    """How many decimals a cell's number is written with (0 when it is not one)."""
    try:
        exponent = Decimal(str(value).strip()).as_tuple().exponent
    except InvalidOperation:
        return 0
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _check_place(row: ImportRow) -> None:
    lat, lon = row.values.get("site_latitude"), row.values.get("site_longitude")
    if any(c in _COORDINATES for c, _ in row.errors):
        return  # a coordinate that could not be read is its own error, not a missing one
    if (lat is None) != (lon is None):
        row.errors.append(
            (
                "site_latitude" if lat is None else "site_longitude",
                "give both coordinates or neither",
            )
        )
    elif lat is not None and lon is not None and not coordinates_in_peru(lat, lon):
        row.errors.append(("site_latitude", "coordinates are outside Peru (WGS84)"))


def _check_status(row: ImportRow) -> None:
    values = row.values
    given = [] if _EVIDENCE_SET.isdisjoint(values) else [c for c in _EVIDENCE if c in values]
    decontaminated = row.values.get("status") == OperatingStatus.DECONTAMINATED.value
    if decontaminated and row.values.get("status_since") is None:
        row.errors.append(("status_since", "required with decontaminated (its date)"))
    if row.values.get("status") == OperatingStatus.ELIMINATED.value:
        missing = [c for c in _EVIDENCE if c not in row.values]
        for column in missing:
            row.errors.append((column, "required to record eliminated"))
        if not missing:
            evidence = EliminationEvidence(
                **{field: row.values[column] for field, column in EVIDENCE_FIELDS.items()}
            )
            for problem in evidence_problems(evidence):
                row.errors.append(("disposal_facility", problem))
            row.evidence = {c: row.values[c] for c in _EVIDENCE}
    elif given:
        row.errors.append((given[0], "disposal evidence goes with status eliminated only"))


def _check_analysis(row: ImportRow) -> None:
    if _ANALYSIS_SET.isdisjoint(row.values):
        return
    method, on = row.values.get("analysis_method"), row.values.get("analysis_date")
    if method is None or on is None:
        row.errors.append(
            ("analysis_method" if method is None else "analysis_date", "required for an analysis")
        )
        return
    try:
        facts: dict[str, Any] = {f: row.values.get(ANALYSIS_FIELDS[f]) for f in _ANALYSIS_FACTS}
        Analysis(**facts | {"method": AnalysisMethod(method)})
    except (TypeError, ValueError) as exc:
        row.errors.append(("analysis_method", str(exc)))
        return
    row.analysis = {field: row.values.get(column) for field, column in ANALYSIS_FIELDS.items()}
    row.analysis["sample_ref"] = row.values.get("analysis_sample_ref", "")
