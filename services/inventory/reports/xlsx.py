"""A Convention report as an XLSX workbook: a "report" sheet (what, which year, its
status), one sheet per section with one row per figure (the same numbers as the JSON,
written as numbers), and a "sources" sheet. Text cells go through ``safe_cell`` (no
formula injection), as the CSV exports do. A report holds a few hundred figures, so the
workbook is built in memory (write-only mode) and sent whole."""

from __future__ import annotations

import io
from typing import Any, Final

from services.inventory.reports.convention_schemas import ConventionReportOut
from shared.exports import safe_cell

XLSX_MEDIA_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIGURE_COLUMNS: Final = (
    "figure",
    "question",
    "metric",
    "value",
    "unit",
    "status",
    "not_weighed_items",
    "note",
    "source_submissions",
)


def _cell(value: Any) -> Any:
    return safe_cell(value) if value is not None else None


def dimension_columns(figures: list[Any]) -> list[str]:
    """The dimensions of a section's figures, in the order they first appear."""
    seen: dict[str, None] = {}
    for f in figures:
        for key in f.dimensions:
            seen.setdefault(key, None)
    return list(seen)


def workbook_bytes(report: ConventionReportOut) -> bytes:
    """The report as an XLSX file."""
    from openpyxl import Workbook  # imported here: a slow import used only for XLSX

    book = Workbook(write_only=True)
    about = book.create_sheet("report")
    for key in ("convention", "article", "year", "schedule", "status", "status_note"):
        about.append([key, _cell(getattr(report, key))])
    for section in report.sections:
        about.append([f"section {section.section}", _cell(section.title), section.status])
        about.append(["  format sources", _cell(" ".join(section.sources_urls))])
    for section in report.sections:
        sheet = book.create_sheet(section.section[:31])
        dims = dimension_columns(section.figures)
        sheet.append([*dims, *FIGURE_COLUMNS])
        for f in section.figures:
            sheet.append(
                [
                    *(_cell(f.dimensions.get(d)) for d in dims),
                    _cell(f.figure),
                    _cell(f.question),
                    _cell(f.metric),
                    f.value,
                    _cell(f.unit),
                    _cell(f.status),
                    f.not_weighed_items,
                    _cell(f.note),
                    " ".join(str(i) for i in f.source_submissions),
                ]
            )
    sources = book.create_sheet("sources")
    sources.append(["submission_id", "org_code", "year", "section", "revision", "validated_at"])
    for s in report.sources:
        validated = s.validated_at.isoformat() if s.validated_at else None
        sources.append([s.submission_id, s.org_code, s.year, s.section, s.revision, validated])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
