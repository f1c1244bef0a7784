"""Code lists an activity is checked against: the IATI codelists copied beside the schema,
and Peru's departments (INEI ubigeo, first two digits) used as activity locations."""

from __future__ import annotations

from services.cooperation.iati.codelists import codes, labels

__all__ = ["DEPARTMENTS", "codes", "labels"]

# INEI department codes; 07 is Callao and 15 Lima (DOMAIN.md section 4).
DEPARTMENTS: dict[str, str] = {
    "01": "Amazonas", "02": "Áncash", "03": "Apurímac", "04": "Arequipa", "05": "Ayacucho",
    "06": "Cajamarca", "07": "Callao", "08": "Cusco", "09": "Huancavelica", "10": "Huánuco",
    "11": "Ica", "12": "Junín", "13": "La Libertad", "14": "Lambayeque", "15": "Lima",
    "16": "Loreto", "17": "Madre de Dios", "18": "Moquegua", "19": "Pasco", "20": "Piura",
    "21": "Puno", "22": "San Martín", "23": "Tacna", "24": "Tumbes", "25": "Ucayali",
}  # fmt: skip
