"""Code lists an activity is checked against: the IATI codelists copied beside the schema,
and Peru's departments (INEI ubigeo, first two digits) used as activity locations."""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from services.cooperation.iati.validate import SCHEMA_DIR

CODELISTS = SCHEMA_DIR / "codelists"

# INEI department codes; 07 is Callao and 15 Lima (DOMAIN.md section 4).
DEPARTMENTS: dict[str, str] = {
    "01": "Amazonas", "02": "Áncash", "03": "Apurímac", "04": "Arequipa", "05": "Ayacucho",
    "06": "Cajamarca", "07": "Callao", "08": "Cusco", "09": "Huancavelica", "10": "Huánuco",
    "11": "Ica", "12": "Junín", "13": "La Libertad", "14": "Lambayeque", "15": "Lima",
    "16": "Loreto", "17": "Madre de Dios", "18": "Moquegua", "19": "Pasco", "20": "Piura",
    "21": "Puno", "22": "San Martín", "23": "Tacna", "24": "Tumbes", "25": "Ucayali",
}  # fmt: skip


@functools.cache
def labels(codelist: str) -> dict[str, str]:
    """``{code: English name}`` of the codelist's items that are not withdrawn."""
    path: Path = CODELISTS / f"{codelist}.xml"
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(path), parser).getroot()
    found: dict[str, str] = {}
    for item in root.iter("codelist-item"):
        if item.get("status") == "withdrawn":
            continue
        code = item.findtext("code")
        name = item.find("name")
        narrative = name.findtext("narrative") if name is not None else None
        if code:
            found[code.strip()] = (narrative or "").strip()
    return found


@functools.cache
def codes(codelist: str) -> frozenset[str]:
    """The codes of a codelist that are not withdrawn."""
    return frozenset(labels(codelist))
