"""Representation of the Convention reports (Stockholm Article 15, Minamata Article 21)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class FigureOut(BaseModel):
    """One figure of a report: what it is, which question of the format it answers, the
    metric it corresponds to, its value in its unit, and the submissions it comes from."""

    figure: str = Field(description="The figure's id within the report.")
    question: str = Field(description="The part of the Convention's reporting format.")
    metric: str | None = Field(description="Metrics-catalogue id (null: none).")
    dimensions: dict[str, str | None]
    value: int | Decimal | None = Field(description="Null when not determined.")
    unit: str
    status: str = Field(description="determined, not_determined or not_applicable")
    not_weighed_items: int | None = Field(
        default=None, description="Items left out of a mass because they cannot be weighed."
    )
    note: str | None = None
    source_submissions: list[int] = Field(
        description="The validated submissions holding what the figure counts (for a zero: "
        "every submission of the section, none of which holds any)."
    )


class SectionOut(BaseModel):
    """One part of a report."""

    section: str
    title: str
    status: str = Field(description="validated, or no_validated_data")
    sources_urls: list[str] = Field(description="Where the format's structure was taken from.")
    figures: list[FigureOut]


class SourceSubmissionOut(BaseModel):
    """A validated submission a report reads."""

    submission_id: int
    org_code: str
    year: int
    section: str
    revision: int
    validated_at: datetime | None


class ConventionReportOut(BaseModel):
    """A Convention report for one reporting year, from validated data only."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "convention": "stockholm",
                    "article": "15",
                    "year": 2024,
                    "schedule": "convention",
                    "status": "validated",
                    "status_note": None,
                    "sections": [
                        {
                            "section": "annex_a_part_ii_pcb",
                            "title": "PCB (Annex A Part II)",
                            "status": "validated",
                            "sources_urls": ["http://ers.pops.int/..."],
                            "figures": [
                                {
                                    "figure": "pcb.in_use.equipment_items",
                                    "question": "Part C: PCB equipment still in use ...",
                                    "metric": "pcb_in_use",
                                    "dimensions": {"category": "i", "pcb_class": "P1"},
                                    "value": 1,
                                    "unit": "items",
                                    "status": "determined",
                                    "source_submissions": [3],
                                }
                            ],
                        }
                    ],
                    "sources": [],
                }
            ]
        }
    )

    convention: str
    article: str
    year: int
    schedule: str | None
    status: str = Field(description="validated, or no_validated_data (nothing is shown then)")
    status_note: str | None
    sections: list[SectionOut]
    sources: list[SourceSubmissionOut]
