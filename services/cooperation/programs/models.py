"""Organisations and cooperation work programs with their goals and priority areas."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.cooperation.db import Base, cascade
from shared.db import VersionedMixin


class Organisation(VersionedMixin, Base):
    """An agency or partner taking part in cooperation (MINAM, EPA, UNIDO ...)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_es: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    iati_type: Mapped[str] = mapped_column(String(3))
    country: Mapped[str | None] = mapped_column(String(2))
    iati_ref: Mapped[str | None] = mapped_column(String(100))


class WorkProgram(VersionedMixin, Base):
    """A cooperation work program defined under an agreement by a commission."""

    __tablename__ = "work_programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title_en: Mapped[str] = mapped_column(String(500))
    title_es: Mapped[str] = mapped_column(String(500))
    agreement: Mapped[str] = mapped_column(String(500))
    agreement_signed_on: Mapped[date | None]
    agreement_in_force_on: Mapped[date | None]
    commission: Mapped[str] = mapped_column(String(300))
    period_start: Mapped[date]
    period_end: Mapped[date]
    preamble_en: Mapped[str | None] = mapped_column(Text)
    background_en: Mapped[str | None] = mapped_column(Text)
    goals_intro_en: Mapped[str | None] = mapped_column(Text)
    activities_en: Mapped[str | None] = mapped_column(Text)
    benchmarks_en: Mapped[str | None] = mapped_column(Text)
    preamble_es: Mapped[str | None] = mapped_column(Text)
    background_es: Mapped[str | None] = mapped_column(Text)
    goals_intro_es: Mapped[str | None] = mapped_column(Text)
    activities_es: Mapped[str | None] = mapped_column(Text)
    benchmarks_es: Mapped[str | None] = mapped_column(Text)
    # Whose Spanish it is when the source is English only (e.g. our unofficial translation).
    translation_es: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(500))
    # DAC 5-digit sector of the program as a parent IATI activity (ruleset 6.2.2).
    sector: Mapped[str | None] = mapped_column(String(10))
    # Who publishes the program as the parent IATI activity (the national focal point).
    reporting_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))

    reporting_org: Mapped[Organisation | None] = relationship(lazy="raise")

    goals: Mapped[list[Goal]] = relationship(
        back_populates="program", lazy="raise", order_by="Goal.code"
    )
    priority_areas: Mapped[list[PriorityArea]] = relationship(
        back_populates="program", lazy="raise", order_by="PriorityArea.code"
    )


class Goal(Base):
    """A long-term goal of a program (A-E)."""

    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("program_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = cascade("work_programs")
    code: Mapped[str] = mapped_column(String(4))
    text_en: Mapped[str] = mapped_column(Text)
    text_es: Mapped[str | None] = mapped_column(Text)

    program: Mapped[WorkProgram] = relationship(back_populates="goals", lazy="raise")


class PriorityArea(Base):
    """A priority area for cooperation with its objectives and action areas."""

    __tablename__ = "priority_areas"
    __table_args__ = (UniqueConstraint("program_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = cascade("work_programs")
    code: Mapped[str] = mapped_column(String(4))
    title_en: Mapped[str] = mapped_column(Text)
    title_es: Mapped[str | None] = mapped_column(Text)
    objectives_en: Mapped[str | None] = mapped_column(Text)
    objectives_es: Mapped[str | None] = mapped_column(Text)

    program: Mapped[WorkProgram] = relationship(back_populates="priority_areas", lazy="raise")
    objectives: Mapped[list[Objective]] = relationship(
        lazy="raise", order_by="Objective.number", cascade="all, delete-orphan"
    )
    action_areas: Mapped[list[ActionArea]] = relationship(
        lazy="raise", order_by="ActionArea.number", cascade="all, delete-orphan"
    )


class Objective(Base):
    """A numbered objective of a priority area."""

    __tablename__ = "objectives"
    __table_args__ = (UniqueConstraint("priority_area_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    priority_area_id: Mapped[int] = cascade("priority_areas")
    number: Mapped[int]
    text_en: Mapped[str] = mapped_column(Text)
    text_es: Mapped[str | None] = mapped_column(Text)


class ActionArea(Base):
    """A numbered action area of a priority area, where activities are placed."""

    __tablename__ = "action_areas"
    __table_args__ = (UniqueConstraint("priority_area_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    priority_area_id: Mapped[int] = cascade("priority_areas")
    number: Mapped[int]
    text_en: Mapped[str] = mapped_column(Text)
    text_es: Mapped[str | None] = mapped_column(Text)

    priority_area: Mapped[PriorityArea] = relationship(lazy="raise", viewonly=True)
