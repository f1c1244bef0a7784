"""PCB item, analysis, status-event and thresholds representations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.inventory.countries import is_country
from services.inventory.pcb.mass import MassMethod, NotWeighed, VolumeMethod
from services.inventory.pcb.rules import (
    AnalysisMethod,
    ComplianceFlag,
    ConcentrationKind,
    EquipmentType,
    OperatingStatus,
    PcbClass,
)
from services.inventory.registry.schemas import PatchModel, StrictModel, scaled
from services.inventory.vocabulary import FluidKind
from shared.db import utcnow

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Quantity = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=3), scaled(3)]
MgPerKg = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=14, decimal_places=3), scaled(3)]
Power = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2), scaled(2)]
Voltage = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2), scaled(2)]
COUNTRY_PATTERN = r"^[A-Z]{2}$"


def _iso_country(code: str) -> str:
    if not is_country(code):
        raise ValueError(f"{code!r} is not an officially assigned ISO 3166-1 alpha-2 code")
    return code


def _not_future(day: date) -> date:
    if day > utcnow().date():
        raise ValueError("cannot be in the future")
    return day


Country = Annotated[
    str,
    Field(pattern=COUNTRY_PATTERN, description="ISO 3166-1 alpha-2"),
    AfterValidator(_iso_country),
]
Year = Annotated[int, Field(ge=1900, le=2100)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Text100 = Annotated[str, Field(min_length=1, max_length=100)]
AssetId = Annotated[
    str,
    Field(min_length=1, max_length=40, description="The holder's own inventory number."),
]


class EliminationIn(StrictModel):
    """Evidence that an item was destroyed (required to record ``eliminated``)."""

    disposal_facility: Text200
    country: Country
    disposed_on: Annotated[date, AfterValidator(_not_future)]
    certificate_ref: Text100
    mass_kg: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3), scaled(3)]
    shipment_id: Id | None = Field(
        default=None,
        description="The shipment that took the item abroad for disposal "
        "(`/v1/pcb-shipments`): of the item's holder and submission, carrying the item, "
        "to `country`.",
    )


class _ItemFields(StrictModel):
    equipment_type: EquipmentType
    manufacturer: Text200
    serial_number: Text100
    owner_asset_id: AssetId | None = None
    country_of_origin: Country | None = None
    year_manufactured: Year | None = None
    power_kva: Power | None = None
    voltage_kv: Voltage | None = None
    fluid_trade_name: Annotated[str, Field(max_length=100)] | None = None
    fluid_kind: FluidKind | None = Field(
        default=None, description="Derived from fluid_trade_name when not given."
    )
    fluid_volume_l: Quantity | None = None
    fluid_mass_kg: Quantity | None = None
    dry_mass_kg: Quantity | None = None
    total_mass_kg: Quantity | None = None
    labelled: bool = False
    leaking: bool = False
    in_populated_area: bool = False
    in_food_feed_area: bool = False


class PcbItemIn(_ItemFields):
    """A new item in a PCB submission. Its status history starts with ``status``."""

    holder_id: Id
    site_id: Id
    status: OperatingStatus = OperatingStatus.IN_USE
    status_since: Annotated[date, AfterValidator(_not_future)] | None = Field(
        default=None, description="Since when the status holds; required for decontaminated."
    )
    elimination: EliminationIn | None = Field(
        default=None, description="Required when status is eliminated."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "holder_id": 1,
                    "site_id": 1,
                    "equipment_type": "transformer",
                    "manufacturer": "Westinghouse",
                    "serial_number": "WH-77-10451",
                    "country_of_origin": "US",
                    "year_manufactured": 1977,
                    "power_kva": "1000",
                    "voltage_kv": "10",
                    "fluid_trade_name": "Askarel",
                    "fluid_volume_l": "850",
                    "labelled": True,
                    "status": "in_use",
                }
            ]
        }
    )


class PcbItemPatch(PatchModel):
    """Fields of an item that may change (status changes are status events)."""

    _not_null: ClassVar[tuple[str, ...]] = (
        "site_id",
        "equipment_type",
        "manufacturer",
        "serial_number",
        "labelled",
        "leaking",
        "in_populated_area",
        "in_food_feed_area",
    )

    site_id: Id | None = None
    equipment_type: EquipmentType | None = None
    manufacturer: Text200 | None = None
    serial_number: Text100 | None = None
    owner_asset_id: AssetId | None = None
    country_of_origin: Country | None = None
    year_manufactured: Year | None = None
    power_kva: Power | None = None
    voltage_kv: Voltage | None = None
    fluid_trade_name: Annotated[str, Field(max_length=100)] | None = None
    fluid_kind: FluidKind | None = None
    fluid_volume_l: Quantity | None = None
    fluid_mass_kg: Quantity | None = None
    dry_mass_kg: Quantity | None = None
    total_mass_kg: Quantity | None = None
    labelled: bool | None = None
    leaking: bool | None = None
    in_populated_area: bool | None = None
    in_food_feed_area: bool | None = None


class EffectiveConcentration(BaseModel):
    """What an item is classified by: its latest GC (or nameplate) value, else its latest
    screening as a bound, else unknown."""

    kind: ConcentrationKind
    value_mg_per_kg: Decimal | None
    source: AnalysisMethod | None


class MassOut(BaseModel):
    """A mass in kg and how it was obtained: ``measured`` (as recorded),
    ``volume_x_density`` (fluid: volume x ``density_kg_per_l``), ``dry_plus_fluid``
    (total: dry mass + fluid mass), or ``not_weighed`` (``kg`` null, never 0, and
    ``not_weighed_reason`` says why)."""

    kg: Decimal | None
    method: MassMethod
    density_kg_per_l: Decimal | None = None
    not_weighed_reason: NotWeighed | None = None


class VolumeOut(BaseModel):
    """The fluid volume classes are judged by: ``measured`` (as recorded),
    ``mass_over_density`` (fluid mass / ``density_kg_per_l``) or ``unknown`` (then the
    volume rules are taken as met and the item raises ``volume_unknown``)."""

    litres: Decimal | None
    method: VolumeMethod
    density_kg_per_l: Decimal | None = None


class StatusAsOf(BaseModel):
    """The status in force on ``as_of`` (from the dated status history) and since when:
    the compliance flags are judged in it."""

    status: OperatingStatus
    since: date | None


class PcbItemOut(BaseModel):
    """A PCB item with its class and compliance flags computed from the current data."""

    id: int
    submission_id: int
    org_code: str
    holder_id: int
    site_id: int
    department_code: str
    equipment_type: str
    manufacturer: str
    serial_number: str
    owner_asset_id: str | None
    country_of_origin: str | None
    year_manufactured: int | None
    power_kva: Decimal | None
    voltage_kv: Decimal | None
    fluid_trade_name: str | None
    fluid_kind: str | None
    fluid_volume_l: Decimal | None
    fluid_mass_kg: Decimal | None
    dry_mass_kg: Decimal | None
    total_mass_kg: Decimal | None
    labelled: bool
    leaking: bool
    in_populated_area: bool
    in_food_feed_area: bool
    status: str
    status_since: date | None
    effective_concentration: EffectiveConcentration
    fluid_volume: VolumeOut = Field(description="The volume the class is judged by.")
    fluid_mass: MassOut = Field(description="The fluid mass counted in national totals.")
    total_mass: MassOut = Field(description="The total mass counted in national totals.")
    pcb_class: PcbClass
    compliance_flags: list[ComplianceFlag]
    as_of: date = Field(description="The date the compliance flags refer to.")
    status_as_of: StatusAsOf
    version: int
    created_at: datetime
    updated_at: datetime


class AnalysisIn(StrictModel):
    """A new analysis. GC and nameplate give ``value_mg_per_kg``; a screening gives its
    cut-off and whether it was positive."""

    method: AnalysisMethod
    analysed_on: date
    sample_ref: Annotated[str, Field(max_length=100)] = ""
    value_mg_per_kg: MgPerKg | None = None
    screening_cutoff_mg_per_kg: MgPerKg | None = None
    screening_positive: bool | None = None
    technique: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="e.g. Clor-N-Oil, EPA 9079, L2000DX, IEC 61619 GC-ECD"
    )
    laboratory: Annotated[str, Field(max_length=200)] | None = None
    report_ref: Annotated[str, Field(max_length=100)] | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "method": "screening",
                    "analysed_on": "2024-03-05",
                    "screening_cutoff_mg_per_kg": "50",
                    "screening_positive": True,
                    "technique": "Clor-N-Oil 50",
                },
                {
                    "method": "gc",
                    "analysed_on": "2024-04-10",
                    "value_mg_per_kg": "1250",
                    "technique": "IEC 61619 GC-ECD",
                    "laboratory": "Laboratorio Demo",
                },
            ]
        }
    )


class InspectionIn(StrictModel):
    """A new inspection of an item: when, by which organisation, what was found."""

    inspected_on: date = Field(description="Day of the inspection (not in the future)")
    inspector_org: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")] = Field(
        description="Code of the inspecting organisation, e.g. OEFA"
    )
    findings: Annotated[str, Field(min_length=1, max_length=4000)]
    leaking_observed: bool = Field(
        default=False, description="A leak was seen: the item is then recorded as leaking"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "inspected_on": "2024-08-20",
                    "inspector_org": "OEFA",
                    "findings": "Enclosure fenced and labelled; no leak seen.",
                    "leaking_observed": False,
                }
            ]
        }
    )


class InspectionOut(BaseModel):
    """A recorded inspection."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    inspected_on: date
    inspector_org: str
    findings: str
    leaking_observed: bool
    created_at: datetime
    created_by: str


class AnalysisOut(BaseModel):
    """A recorded analysis."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    method: AnalysisMethod
    analysed_on: date
    sample_ref: str
    value_mg_per_kg: Decimal | None
    screening_cutoff_mg_per_kg: Decimal | None
    screening_positive: bool | None
    technique: str | None
    laboratory: str | None
    report_ref: str | None
    created_at: datetime
    created_by: str


class StatusEventIn(StrictModel):
    """A status change; only the moves of the workflow are allowed."""

    to_status: OperatingStatus
    changed_on: date
    comment: Annotated[str, Field(max_length=4000)] | None = None
    elimination: EliminationIn | None = Field(
        default=None,
        description="Required for eliminated: facility, country, date, certificate and mass.",
    )


class StatusEventOut(BaseModel):
    """One recorded status change."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    from_status: str | None
    to_status: str
    changed_on: date | None
    recorded_at: datetime
    client_id: str
    org_code: str
    comment: str | None
    disposal_facility: str | None
    disposal_country: str | None
    disposed_on: date | None
    certificate_ref: str | None
    disposed_mass_kg: Decimal | None
    shipment_id: int | None


class ThresholdsIn(StrictModel):
    """The national plan's thresholds and deadlines (the Convention's stay as they are)."""

    p1_mg_per_kg: MgPerKg
    p2_mg_per_kg: MgPerKg
    p3_mg_per_kg: MgPerKg
    large_volume_l: Quantity
    small_volume_l: Quantity
    use_deadline: date
    esm_deadline: date
    presumed_before_year: Year
    presumed_min_volume_l: Quantity
    provenance: Annotated[str, Field(min_length=1, max_length=4000)]

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdsIn:
        if not self.p3_mg_per_kg < self.p2_mg_per_kg < self.p1_mg_per_kg:
            raise ValueError("thresholds must satisfy p3 < p2 < p1")
        if self.small_volume_l > self.large_volume_l:
            raise ValueError("small_volume_l must not exceed large_volume_l")
        return self


class ThresholdsOut(BaseModel):
    """The thresholds and deadlines of one schedule."""

    model_config = ConfigDict(from_attributes=True)

    schedule: str = Field(description="`convention` or `national`.")
    p1_mg_per_kg: Decimal
    p2_mg_per_kg: Decimal
    p3_mg_per_kg: Decimal
    large_volume_l: Decimal
    small_volume_l: Decimal
    use_deadline: date
    esm_deadline: date
    presumed_before_year: int
    presumed_min_volume_l: Decimal
    provenance: str
    version: int = Field(
        description="0 for the Convention's schedule (never stored), and for a national "
        "schedule while no plan is stored."
    )
    updated_at: datetime | None


class FluidDensityOut(BaseModel):
    """Density used to estimate a fluid mass from its volume."""

    model_config = ConfigDict(from_attributes=True)

    fluid_kind: str
    density_kg_per_l: Decimal
    provenance: str
