"""Report representations: national summary, by department, by holder, time series."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class PcbBucket(BaseModel):
    """Items and their mass, in tonnes (equipment total mass; fluid mass, from the volume
    and the fluid's density where no mass was recorded)."""

    items: int
    total_mass_t: Decimal
    fluid_mass_t: Decimal


class PcbCell(PcbBucket):
    """Items of one class in one status."""

    pcb_class: str
    status: str


class DeadlineOut(BaseModel):
    """PCB items the deadline concerns, on the report's date: due (deadline ahead) or
    overdue (deadline passed)."""

    deadline: date
    items_due: int
    items_overdue: int


class DeadlinesOut(BaseModel):
    """Use of PCB equipment to end by the use deadline (2025); environmentally sound
    management of PCB liquids and equipment by the ESM deadline (2028)."""

    use: DeadlineOut
    esm: DeadlineOut


class PcbFlagsOut(BaseModel):
    """Items raising the flags that do not depend on the date."""

    label_missing: int
    prohibited_location: int
    needs_gc_confirmation: int


class PcbSummaryOut(PcbBucket):
    """PCB items by class and status, share eliminated, deadlines."""

    by_class: dict[str, PcbBucket]
    by_status: dict[str, PcbBucket]
    by_class_and_status: list[PcbCell]
    pcb_items: int = Field(description="Items of class P1, P2, P3 or presumed.")
    pcb_items_eliminated: int
    share_eliminated: Decimal | None = Field(description="Eliminated PCB items / PCB items.")
    share_eliminated_by_mass: Decimal | None
    deadlines: DeadlinesOut
    flags: PcbFlagsOut | None = None


class ReleaseCell(BaseModel):
    """A summed release. Parts with ND factors are left out of the sum and counted:
    ``complete`` is false then, and with nothing determined the status is
    ``not_determined`` (never zero)."""

    status: Literal["determined", "not_determined", "not_applicable"]
    release_g_teq_per_year: Decimal | None
    complete: bool
    not_determined_parts: int


class UpopsSummaryOut(BaseModel):
    """UP-POPs releases in g TEQ/a by source group (1-10) and vector."""

    by_source_group: dict[str, dict[str, ReleaseCell]]
    by_vector: dict[str, ReleaseCell]
    determined_g_teq_per_year: Decimal
    complete: bool
    not_determined_parts: int


class MercurySummaryOut(BaseModel):
    """Mercury releases in kg Hg/a by source category (ASGM apart) and output pathway."""

    by_category: dict[str, dict[str, Decimal]]
    category_totals_kg_per_year: dict[str, Decimal]
    by_pathway: dict[str, Decimal]
    total_kg_per_year: Decimal


class NationalSummaryOut(BaseModel):
    """The national inventory of one reporting year (validated data only), or a preview
    of one submission."""

    year: int | None
    as_of: date = Field(description="The date the deadline figures refer to.")
    scope: Literal["national", "submission"]
    submission_id: int | None = None
    pcb: PcbSummaryOut
    upops: UpopsSummaryOut
    mercury: MercurySummaryOut


class DepartmentSummaryOut(BaseModel):
    """One department's share of the national inventory."""

    department_code: str | None = Field(description="null: estimates with no department.")
    department_name: str | None
    pcb: PcbSummaryOut
    upops: UpopsSummaryOut
    mercury: MercurySummaryOut


class ByDepartmentOut(BaseModel):
    """The national inventory of one year, department by department."""

    year: int | None
    as_of: date
    departments: list[DepartmentSummaryOut]


class HolderSummaryOut(BaseModel):
    """One holder's PCB items in the national inventory (and any estimates of it)."""

    holder_id: int
    ruc: str
    name: str
    pcb: PcbSummaryOut
    upops: UpopsSummaryOut
    mercury: MercurySummaryOut


class ByHolderOut(BaseModel):
    """The national inventory of one year, holder by holder (a page of holders)."""

    year: int | None
    as_of: date
    holders: list[HolderSummaryOut]
    next_cursor: str | None


class YearSummaryOut(BaseModel):
    """One year of the time series."""

    year: int
    pcb: PcbSummaryOut
    upops: UpopsSummaryOut
    mercury: MercurySummaryOut


class TimeSeriesOut(BaseModel):
    """National figures year by year (validated data only)."""

    as_of: date
    years: list[YearSummaryOut]
