"""Work program and organisation representations."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class OrganisationOut(BaseModel):
    """An organisation taking part in cooperation."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name_es: str
    name_en: str
    iati_type: str
    country: str | None
    iati_ref: str | None
    updated_at: datetime


class GoalOut(BaseModel):
    """A long-term goal."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    text_en: str
    text_es: str | None


class NumberedText(BaseModel):
    """An objective or action area."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    text_en: str
    text_es: str | None


class PriorityAreaOut(BaseModel):
    """A priority area with its objectives and action areas."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    title_en: str
    title_es: str | None
    objectives_en: str | None
    objectives_es: str | None
    objectives: list[NumberedText]
    action_areas: list[NumberedText]


class ProgramSummary(BaseModel):
    """A work program without its structure."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    title_en: str
    title_es: str
    agreement: str
    agreement_signed_on: date | None
    agreement_in_force_on: date | None
    commission: str
    period_start: date
    period_end: date
    version: int
    updated_at: datetime


PROGRAM_TEXTS = (
    "preamble_en",
    "background_en",
    "goals_intro_en",
    "activities_en",
    "benchmarks_en",
    "preamble_es",
    "background_es",
    "goals_intro_es",
    "activities_es",
    "benchmarks_es",
    "translation_es",
    "source",
)


class ProgramOut(ProgramSummary):
    """A work program with its goals and priority areas, and its text in full."""

    preamble_en: str | None
    background_en: str | None
    goals_intro_en: str | None
    activities_en: str | None
    benchmarks_en: str | None
    preamble_es: str | None
    background_es: str | None
    goals_intro_es: str | None
    activities_es: str | None
    benchmarks_es: str | None
    translation_es: str | None = Field(
        description="Whose the Spanish texts are when the program's source is in English "
        "only (the 2015-2018 program: Enlace's unofficial translation)."
    )
    source: str | None
    reporting_org: str | None = Field(
        description="Organisation that publishes the program as the parent IATI activity."
    )
    iati_identifier: str | None
    goals: list[GoalOut]
    priority_areas: list[PriorityAreaOut]
