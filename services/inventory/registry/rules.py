"""Checks on Peruvian identifiers and places used by holders and sites.

Pure functions, no I/O. Sources: SUNAT's RUC check-digit rule and INEI's UBIGEO coding
(see DOMAIN.md §4).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Final

# Weights SUNAT applies to the first ten digits of a RUC, left to right.
RUC_WEIGHTS: Final = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
# 10, 15 and 17 are natural persons (DNI-based and others), 20 is companies.
RUC_PREFIXES: Final = frozenset({"10", "15", "17", "20"})

# ``str.isdigit`` accepts non-ASCII digits ("٣", "²"); identifiers must be plain 0-9.
_RUC_SHAPE: Final = re.compile(r"[0-9]{11}")
_TEN_DIGITS: Final = re.compile(r"[0-9]{10}")
_UBIGEO_SHAPE: Final = re.compile(r"[0-9]{6}")

DEPARTMENTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "01": "Amazonas",
        "02": "Áncash",
        "03": "Apurímac",
        "04": "Arequipa",
        "05": "Ayacucho",
        "06": "Cajamarca",
        "07": "Callao",
        "08": "Cusco",
        "09": "Huancavelica",
        "10": "Huánuco",
        "11": "Ica",
        "12": "Junín",
        "13": "La Libertad",
        "14": "Lambayeque",
        "15": "Lima",
        "16": "Loreto",
        "17": "Madre de Dios",
        "18": "Moquegua",
        "19": "Pasco",
        "20": "Piura",
        "21": "Puno",
        "22": "San Martín",
        "23": "Tacna",
        "24": "Tumbes",
        "25": "Ucayali",
    }
)

# WGS84 bounding box of Peru, inclusive (DOMAIN.md §4). A box, not the border: it catches
# swapped or sign-flipped coordinates, not points just across a frontier.
LAT_MIN: Final = Decimal("-18.4")
LAT_MAX: Final = Decimal("0.0")
LON_MIN: Final = Decimal("-81.4")
LON_MAX: Final = Decimal("-68.6")


def ruc_check_digit(first_ten: str) -> int:
    """Return the check digit SUNAT expects after the ten given digits.

    11 - (weighted sum mod 11), where a result of 10 becomes 0 and 11 becomes 1.
    Raises ``ValueError`` unless ``first_ten`` is exactly ten ASCII digits.
    """
    if not _TEN_DIGITS.fullmatch(first_ten):
        raise ValueError(f"expected ten digits, got {first_ten!r}")
    total = sum(int(d) * w for d, w in zip(first_ten, RUC_WEIGHTS, strict=True))
    digit = 11 - total % 11
    return {10: 0, 11: 1}.get(digit, digit)


def ruc_is_valid(ruc: str) -> bool:
    """True if ``ruc`` is 11 digits with a known prefix and a matching check digit."""
    if not _RUC_SHAPE.fullmatch(ruc) or ruc[:2] not in RUC_PREFIXES:
        return False
    return ruc_check_digit(ruc[:10]) == int(ruc[10])


def ubigeo_is_valid(ubigeo: str) -> bool:
    """True if ``ubigeo`` is 6 digits: department 01-25, then province and district not 00.

    This checks the shape only; whether the province/district pair exists is a question
    for INEI's table, which the service keeps as data.
    """
    if not _UBIGEO_SHAPE.fullmatch(ubigeo):
        return False
    return ubigeo[:2] in DEPARTMENTS and ubigeo[2:4] != "00" and ubigeo[4:6] != "00"


def department_of(ubigeo: str) -> str:
    """Return the two-digit department code of a valid UBIGEO (``ValueError`` otherwise)."""
    if not ubigeo_is_valid(ubigeo):
        raise ValueError(f"not a valid UBIGEO: {ubigeo!r}")
    return ubigeo[:2]


def coordinates_in_peru(lat: Decimal | float, lon: Decimal | float) -> bool:
    """True if the WGS84 point lies in Peru's bounding box (edges included).

    Floats go through ``str`` so that ``-18.4`` means the decimal -18.4 the caller wrote,
    not its binary approximation. NaN and infinities are outside.
    """
    try:
        lat_d = lat if isinstance(lat, Decimal) else Decimal(str(lat))
        lon_d = lon if isinstance(lon, Decimal) else Decimal(str(lon))
    except (InvalidOperation, ValueError):
        return False
    if not (lat_d.is_finite() and lon_d.is_finite()):
        return False
    return LAT_MIN <= lat_d <= LAT_MAX and LON_MIN <= lon_d <= LON_MAX
