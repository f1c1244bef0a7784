"""Code lists an activity is checked against: the IATI codelists copied beside the schema,
and Peru's departments (INEI ubigeo, first two digits) used as activity locations; the
labels of codes in English (the codelists) and Spanish (``data/labels_es.json``)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from services.cooperation.iati.codelists import codes, labels

__all__ = ["DEPARTMENTS", "codes", "label", "labels", "spanish_labels"]

SPANISH = Path(__file__).resolve().parent.parent / "data" / "labels_es.json"

# INEI department codes; 07 is Callao and 15 Lima (DOMAIN.md section 4).
DEPARTMENTS: dict[str, str] = {
    "01": "Amazonas", "02": "Áncash", "03": "Apurímac", "04": "Arequipa", "05": "Ayacucho",
    "06": "Cajamarca", "07": "Callao", "08": "Cusco", "09": "Huancavelica", "10": "Huánuco",
    "11": "Ica", "12": "Junín", "13": "La Libertad", "14": "Lambayeque", "15": "Lima",
    "16": "Loreto", "17": "Madre de Dios", "18": "Moquegua", "19": "Pasco", "20": "Piura",
    "21": "Puno", "22": "San Martín", "23": "Tacna", "24": "Tumbes", "25": "Ucayali",
}  # fmt: skip


@functools.cache
def spanish_labels() -> dict[str, dict[str, str]]:
    """``{codelist: {code: Spanish label}}`` where Enlace has them."""
    data: dict[str, Any] = json.loads(SPANISH.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def label(codelist: str, value: Any, lang: str) -> str:
    """The label of a code in ``lang`` (``es`` falls back to English; unknown: empty)."""
    if value is None or value == "":
        return ""
    key = str(value)
    english = labels(codelist).get(key, "")
    return spanish_labels().get(codelist, {}).get(key, english) if lang == "es" else english
