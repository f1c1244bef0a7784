"""Report representations: national summary, by department, by holder, time series."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class PcbBucket(BaseModel):
    """Items and their mass, in tonnes: equipment total mass (as recorded, else dry mass +
    fluid mass) and fluid mass (as recorded, else volume x the fluid's density). An item
    whose mass cannot be known is not counted as 0 t: it is counted in
    ``items_not_weighed`` (total) or ``fluid_items_not_weighed`` (fluid)."""

    items: int
    total_mass_t: Decimal = Field(description="Sum over the items that could be weighed.")
    fluid_mass_t: Decimal = Field(description="Sum over the items that could be weighed.")
    items_not_weighed: int = Field(description="Items with no total mass, nor dry + fluid.")
    fluid_items_not_weighed: int = Field(
        description="Items with no fluid mass, nor a volume and a density for its fluid."
    )
    estimated_total_mass_t: Decimal = Field(
        description="Part of total_mass_t estimated as dry mass + fluid mass."
    )
    estimated_fluid_mass_t: Decimal = Field(
        description="Part of fluid_mass_t estimated as volume x density (see weighing)."
    )


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


class FluidMassEstimateOut(BaseModel):
    """Fluid mass estimated from volumes with one fluid kind's density."""

    fluid_kind: str
    method: Literal["volume_x_density"]
    density_kg_per_l: Decimal | None
    items: int
    fluid_mass_t: Decimal


class WeighingOut(BaseModel):
    """How the masses were obtained: items not weighed by reason, and estimates."""

    total_mass_not_weighed: dict[str, int]
    fluid_mass_not_weighed: dict[str, int] = Field(
        description="By reason: no_fluid_volume_or_mass, no_density_for_fluid_kind."
    )
    fluid_mass_estimates: list[FluidMassEstimateOut]


class PcbSummaryOut(PcbBucket):
    """PCB items by class and status, share eliminated, deadlines."""

    by_class: dict[str, PcbBucket]
    by_status: dict[str, PcbBucket]
    by_class_and_status: list[PcbCell]
    weighing: WeighingOut
    pcb_items: int = Field(description="Items of class P1, P2, P3 or presumed.")
    pcb_items_eliminated: int
    share_eliminated: Decimal | None = Field(description="Eliminated PCB items / PCB items.")
    share_eliminated_by_mass: Decimal | None
    deadlines: DeadlinesOut
    flags: PcbFlagsOut | None = None


class ReleaseCell(BaseModel):
    """A summed release of one pollutant (under one TEQ scheme). Parts with ND factors are
    left out of the sum and counted: ``complete`` is false then, and with nothing
    determined the status is ``not_determined`` (never zero)."""

    status: Literal["determined", "not_determined", "not_applicable"]
    release: Decimal | None = Field(description="In unit.")
    unit: str = Field(description="g TEQ/a (PCDD/F, dl-PCB) or g/a (HCB, PeCBz).")
    release_g_teq_per_year: Decimal | None = Field(
        description="The same for PCDD/F and dl-PCB; null for HCB and PeCBz (not a TEQ)."
    )
    complete: bool
    not_determined_parts: int


class UpopsTotalOut(BaseModel):
    """The releases of one pollutant under one TEQ scheme (none for HCB, PeCBz), in one
    unit: totals of different pollutants or schemes are never added."""

    pollutant: str
    teq_scheme: str | None = Field(description="WHO-2005, WHO-1998, I-TEQ; null for mass.")
    unit: str = Field(description="g TEQ/a (with teq_scheme) or g/a.")
    label: str = Field(description='e.g. "g TEQ/a (WHO-2005)", "g/a".')
    by_source_group: dict[str, dict[str, ReleaseCell]]
    by_vector: dict[str, ReleaseCell]
    determined: Decimal = Field(description="Sum over vectors, in unit.")
    complete: bool
    not_determined_parts: int


class UpopsSummaryOut(BaseModel):
    """UP-POPs releases: one total per pollutant and TEQ scheme (``totals``), by source
    group (1-10) and vector. The older single-sum fields are filled only when the summary
    holds one TEQ pollutant under one scheme (or nothing), else null."""

    totals: list[UpopsTotalOut]
    by_source_group: dict[str, dict[str, ReleaseCell]] | None
    by_vector: dict[str, ReleaseCell] | None
    determined_g_teq_per_year: Decimal | None
    complete: bool
    not_determined_parts: int


class MercurySummaryOut(BaseModel):
    """Mercury releases in kg Hg/a by source category (ASGM apart) and output pathway."""

    by_category: dict[str, dict[str, Decimal]]
    category_totals_kg_per_year: dict[str, Decimal]
    by_level: dict[str, dict[str, Decimal]] = Field(
        description='By Toolkit level ("1": catalogue factors, "2": own factors) and pathway.'
    )
    level_totals_kg_per_year: dict[str, Decimal]
    asgm_vs_rest_kg_per_year: dict[str, Decimal] = Field(
        description="asgm: artisanal and small-scale gold mining; other: every other category."
    )
    by_pathway: dict[str, Decimal]
    total_kg_per_year: Decimal


class NationalSummaryOut(BaseModel):
    """The national inventory of one reporting year (validated data only), or a preview
    of one submission."""

    year: int | None
    as_of: date = Field(description="The date the deadline figures refer to.")
    schedule: str = Field(description="The schedule classes and deadlines are judged by.")
    sector_filter: list[str] | None = Field(
        description="The holders' sectors the figures are limited to (null: every sector)."
    )
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
    schedule: str = Field(description="The schedule classes and deadlines are judged by.")
    sector_filter: list[str] | None = Field(
        description="The holders' sectors the figures are limited to (null: every sector)."
    )
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
    schedule: str = Field(description="The schedule classes and deadlines are judged by.")
    sector_filter: list[str] | None = Field(
        description="The holders' sectors the figures are limited to (null: every sector)."
    )
    holders: list[HolderSummaryOut]
    next_cursor: str | None


class SectorSummaryOut(BaseModel):
    """The share of the national inventory of the holders of one sector."""

    sector: str | None = Field(description="null: estimates that name no holder.")
    sector_label_es: str | None
    sector_label_en: str | None
    pcb: PcbSummaryOut
    upops: UpopsSummaryOut
    mercury: MercurySummaryOut


class BySectorOut(BaseModel):
    """The national inventory of one year, sector by sector (the holders' sector)."""

    year: int | None
    as_of: date
    schedule: str = Field(description="The schedule classes and deadlines are judged by.")
    sector_filter: list[str] | None = Field(
        description="The holders' sectors the figures are limited to (null: every sector)."
    )
    sectors: list[SectorSummaryOut]


class YearSummaryOut(BaseModel):
    """One year of the time series."""

    year: int
    pcb: PcbSummaryOut
    upops: UpopsSummaryOut
    mercury: MercurySummaryOut


class TimeSeriesOut(BaseModel):
    """National figures year by year (validated data only)."""

    as_of: date
    schedule: str = Field(description="The schedule classes and deadlines are judged by.")
    sector_filter: list[str] | None = Field(
        description="The holders' sectors the figures are limited to (null: every sector)."
    )
    years: list[YearSummaryOut]


class ComparedValueOut(BaseModel):
    """One column's total of one pollutant under one scheme."""

    determined: Decimal = Field(description="In the row's unit.")
    complete: bool
    not_determined_parts: int


class ComparedRowOut(BaseModel):
    """One pollutant under one TEQ scheme across the columns (null: no figure under this
    scheme there)."""

    pollutant: str
    teq_scheme: str | None
    unit: str
    label: str
    values: list[ComparedValueOut | None]


class ComparedColumnOut(BaseModel):
    """One compared inventory: a year's validated national data, or one submission."""

    scope: Literal["national", "submission"]
    year: int | None
    submission_id: int | None = None
    upops: UpopsSummaryOut


class ConversionOut(BaseModel):
    """Whether figures were converted between TEQ schemes (never, so far: see note)."""

    applied: bool
    note: str


class UpopsComparisonOut(BaseModel):
    """UP-POPs inventories side by side, each total under its own scheme and unit."""

    columns: list[ComparedColumnOut]
    rows: list[ComparedRowOut]
    conversion: ConversionOut
