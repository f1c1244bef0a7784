"""The import template: an XLSX workbook an agency fills in and sends back as it is.

Its first sheet (the one the import reads) has the columns of the import under headers in
Spanish or English, a drop-down list on every coded column (the codes, from the same
vocabularies as ``/v1/public/vocabularies``) and booleans as ``true``/``false``. A second
sheet holds one example row, a third describes every column with its code, whether it is
required and its allowed values with their labels. The import takes either language's
headers as well as the codes themselves (``HEADER_ALIASES``).
"""

from __future__ import annotations

import io
from typing import Any

from services.inventory.imports.rows import COLUMNS, REQUIRED
from services.inventory.vocabulary import VOCABULARIES

# Column -> (Spanish, English) header.
HEADERS: dict[str, tuple[str, str]] = {
    "holder_ruc": ("RUC del poseedor", "Holder RUC"),
    "holder_name": ("Razón social del poseedor", "Holder name"),
    "holder_sector": ("Sector del poseedor", "Holder sector"),
    "holder_is_public": ("Poseedor público", "Holder is public"),
    "holder_contact_name": ("Contacto del poseedor", "Holder contact name"),
    "holder_contact_email": ("Correo del contacto", "Holder contact email"),
    "holder_contact_phone": ("Teléfono del contacto", "Holder contact phone"),
    "site_name": ("Nombre de la instalación", "Site name"),
    "site_address": ("Dirección de la instalación", "Site address"),
    "site_ubigeo": ("UBIGEO de la instalación", "Site UBIGEO"),
    "site_latitude": ("Latitud (WGS84)", "Latitude (WGS84)"),
    "site_longitude": ("Longitud (WGS84)", "Longitude (WGS84)"),
    "site_type": ("Tipo de instalación", "Site type"),
    "equipment_type": ("Tipo de equipo", "Equipment type"),
    "manufacturer": ("Fabricante", "Manufacturer"),
    "serial_number": ("Número de serie", "Serial number"),
    "owner_asset_id": ("Código patrimonial", "Owner asset id"),
    "country_of_origin": ("País de origen (ISO)", "Country of origin (ISO)"),
    "year_manufactured": ("Año de fabricación", "Year manufactured"),
    "power_kva": ("Potencia (kVA)", "Power (kVA)"),
    "voltage_kv": ("Tensión (kV)", "Voltage (kV)"),
    "fluid_trade_name": ("Nombre comercial del fluido", "Fluid trade name"),
    "fluid_kind": ("Tipo de fluido", "Fluid kind"),
    "fluid_volume_l": ("Volumen de fluido (L)", "Fluid volume (L)"),
    "fluid_mass_kg": ("Masa de fluido (kg)", "Fluid mass (kg)"),
    "dry_mass_kg": ("Masa en seco (kg)", "Dry mass (kg)"),
    "total_mass_kg": ("Masa total (kg)", "Total mass (kg)"),
    "labelled": ("Etiquetado", "Labelled"),
    "leaking": ("Con fugas", "Leaking"),
    "in_populated_area": ("En zona poblada", "In a populated area"),
    "in_food_feed_area": ("En zona de alimentos o piensos", "In a food or feed area"),
    "status": ("Estado", "Status"),
    "status_since": ("Estado desde", "Status since"),
    "disposal_facility": ("Instalación de eliminación", "Disposal facility"),
    "disposal_country": ("País de eliminación (ISO)", "Disposal country (ISO)"),
    "disposed_on": ("Fecha de eliminación", "Disposed on"),
    "certificate_ref": ("Certificado de eliminación", "Certificate reference"),
    "disposed_mass_kg": ("Masa eliminada (kg)", "Disposed mass (kg)"),
    "analysis_method": ("Método de análisis", "Analysis method"),
    "analysis_date": ("Fecha del análisis", "Analysis date"),
    "analysis_sample_ref": ("Muestra", "Sample reference"),
    "analysis_value_mg_per_kg": ("Resultado (mg/kg)", "Result (mg/kg)"),
    "analysis_cutoff_mg_per_kg": ("Umbral del ensayo (mg/kg)", "Test cut-off (mg/kg)"),
    "analysis_positive": ("Ensayo positivo", "Test positive"),
    "analysis_technique": ("Técnica", "Technique"),
    "analysis_laboratory": ("Laboratorio", "Laboratory"),
    "analysis_report_ref": ("Informe del laboratorio", "Laboratory report"),
}
# The vocabulary of each coded column.
CODED: dict[str, str] = {
    "holder_sector": "sector",
    "site_type": "site_type",
    "equipment_type": "equipment_type",
    "fluid_kind": "fluid_kind",
    "status": "operating_status",
    "analysis_method": "analysis_method",
}
BOOLEANS: tuple[str, ...] = (
    "holder_is_public",
    "labelled",
    "leaking",
    "in_populated_area",
    "in_food_feed_area",
    "analysis_positive",
)
# A header the import takes for each column: its code, or its Spanish or English header.
HEADER_ALIASES: dict[str, str] = {
    label.casefold(): column for column, pair in HEADERS.items() for label in pair
}
EXAMPLE: dict[str, Any] = {
    "holder_ruc": "20100326796",
    "holder_name": "Empresa de Distribución Eléctrica Demo S.A.A.",
    "holder_sector": "electricity_distribution",
    "holder_is_public": "false",
    "site_name": "Subestación Chilca",
    "site_address": "Av. Industrial 123, Chilca",
    "site_ubigeo": "150505",
    "site_latitude": -12.5213,
    "site_longitude": -76.7372,
    "site_type": "industrial",
    "equipment_type": "transformer",
    "manufacturer": "Siemens",
    "serial_number": "TR-1984-0042",
    "year_manufactured": 1984,
    "power_kva": 630,
    "fluid_trade_name": "Askarel",
    "fluid_kind": "askarel",
    "fluid_volume_l": 410,
    "labelled": "true",
    "leaking": "false",
    "status": "in_use",
    "status_since": "1985-03-01",
    "analysis_method": "gc",
    "analysis_date": "2024-05-14",
    "analysis_sample_ref": "M-2024-117",
    "analysis_value_mg_per_kg": 620000,
    "analysis_laboratory": "Laboratorio acreditado (demo)",
}
MAX_ROWS = 5000  # rows of the first sheet that get the drop-down lists


def header(column: str, lang: str) -> str:
    es, en = HEADERS[column]
    return es if lang == "es" else en


def resolve_header(name: str) -> str:
    """The import column a header names (a code, or a header of the template), else itself."""
    if name in COLUMNS:
        return name
    return HEADER_ALIASES.get(name.strip().casefold(), name)


def _allowed(column: str, es: bool) -> str:
    vocabulary = CODED.get(column)
    if vocabulary is not None:
        return "; ".join(
            f"{code} ({labels[0] if es else labels[1]})"
            for code, labels in VOCABULARIES[vocabulary].items()
        )
    return "true; false" if column in BOOLEANS else ""


def _header_rows(sheets: list[Any], columns: list[str], lang: str) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold, required = Font(bold=True), PatternFill("solid", fgColor="FFF1CC")
    for sheet in sheets:
        for index, column in enumerate(columns, start=1):
            text = header(column, lang)
            cell = sheet.cell(row=1, column=index, value=text)
            cell.font = bold
            cell.comment = Comment(column, "Enlace")
            if column in REQUIRED:
                cell.fill = required
            sheet.column_dimensions[get_column_letter(index)].width = max(14, len(text) + 2)
        sheet.freeze_panes = "A2"


def _drop_downs(data: Any, codes: Any, columns: list[str], es: bool) -> None:
    """A list of the codes on every coded column (and true/false on the booleans)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    lists: dict[str, str] = {}
    for number, (column, vocabulary) in enumerate(CODED.items(), start=1):
        letter = get_column_letter(number)
        terms = list(VOCABULARIES[vocabulary])
        codes.cell(row=1, column=number, value=column)
        for row, code in enumerate(terms, start=2):
            codes.cell(row=row, column=number, value=code)
        lists[column] = f"{codes.title}!${letter}$2:${letter}${len(terms) + 1}"
    for index, column in enumerate(columns, start=1):
        source = lists.get(column) or ('"true,false"' if column in BOOLEANS else "")
        if not source:
            continue
        rule = DataValidation(type="list", formula1=source, allow_blank=True)
        rule.error = "Elija un código de la lista." if es else "Choose a code from the list."
        rule.showErrorMessage = True
        data.add_data_validation(rule)
        letter = get_column_letter(index)
        rule.add(f"{letter}2:{letter}{MAX_ROWS + 1}")


def _reference(about: Any, columns: list[str], lang: str) -> None:
    """Header, code, required and allowed values of every column."""
    es = lang == "es"
    titles = ("Encabezado", "Código", "Obligatorio", "Valores permitidos")
    if not es:
        titles = ("Header", "Code", "Required", "Allowed values")
    about.append(list(titles))
    yes = "sí" if es else "yes"
    for column in columns:
        needed = yes if column in REQUIRED else "no"
        about.append([header(column, lang), column, needed, _allowed(column, es)])
    for letter, width in zip("ABCD", (34, 28, 12, 90), strict=True):
        about.column_dimensions[letter].width = width


def template_xlsx(lang: str) -> bytes:
    """The workbook, in ``lang`` (``es`` or ``en``)."""
    from openpyxl import Workbook

    es = lang == "es"
    columns = list(COLUMNS)
    workbook = Workbook()
    data = workbook.active
    data.title = "equipos" if es else "items"
    example = workbook.create_sheet("ejemplo" if es else "example")
    about = workbook.create_sheet("columnas" if es else "columns")
    codes = workbook.create_sheet("codigos" if es else "codes")
    _header_rows([data, example], columns, lang)
    for index, column in enumerate(columns, start=1):
        if EXAMPLE.get(column) is not None:
            example.cell(row=2, column=index, value=EXAMPLE[column])
    _drop_downs(data, codes, columns, es)
    _reference(about, columns, lang)
    codes.sheet_state = "hidden"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
