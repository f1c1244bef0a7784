"""PCB waste lots, shipments and their totals: what the API accepts and shows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.inventory.pcb.schemas import Country, Id, MgPerKg
from services.inventory.registry.schemas import PatchModel, StrictModel, Ubigeo, scaled
from services.inventory.wastes.rules import (
    DISPOSAL_OPERATIONS,
    ConcentrationBasis,
    LotStatus,
    WasteKind,
    is_disposal_operation,
)

PositiveMass = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3), scaled(3)]
Name = Annotated[str, Field(min_length=1, max_length=300)]
Ref = Annotated[str, Field(min_length=1, max_length=40)]


def _operation(code: str) -> str:
    if not is_disposal_operation(code):
        raise ValueError(
            f"{code!r} is not a disposal operation of Basel Annex IV "
            f"({', '.join(DISPOSAL_OPERATIONS)})"
        )
    return code


Operation = Annotated[
    str,
    Field(description="Basel Convention Annex IV code (D1-D15, R1-R13), e.g. D10."),
    AfterValidator(_operation),
]


def _concentration_with_basis(model: Any) -> Any:
    given = model.pcb_mg_per_kg is not None
    if given != (model.concentration_basis is not None):
        raise ValueError("pcb_mg_per_kg and concentration_basis go together: give both or neither")
    return model


def _storage(model: Any) -> Any:
    if model.site_id is None and (model.storage_address is None or model.ubigeo is None):
        raise ValueError("give site_id (one of the holder's sites), or storage_address and ubigeo")
    if model.site_id is not None and model.ubigeo is not None:
        raise ValueError("a site has its own ubigeo: give site_id or ubigeo, not both")
    return model


class _LotFields(StrictModel):
    kind: WasteKind
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    mass_kg: PositiveMass
    pcb_mg_per_kg: MgPerKg | None = None
    concentration_basis: ConcentrationBasis | None = Field(
        default=None, description="Where `pcb_mg_per_kg` comes from (required with it)."
    )
    site_id: Id | None = Field(default=None, description="The holder's site storing the lot.")
    storage_address: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    ubigeo: Ubigeo | None = Field(
        default=None, description="Of the storage address, when the lot is not at a site."
    )
    stored_since: date
    source_item_ids: list[Id] = Field(
        default_factory=list,
        max_length=1000,
        description="PCB items of the same submission and holder the lot came from.",
    )


class PcbWasteLotIn(_LotFields):
    """A stored lot of PCB waste of one holder, in a PCB submission."""

    holder_id: Id
    lot_ref: Ref = Field(description="The holder's own label of the lot (unique per holder).")

    @model_validator(mode="after")
    def _consistent(self) -> PcbWasteLotIn:
        return _storage(_concentration_with_basis(self))  # type: ignore[no-any-return]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "holder_id": 1,
                    "lot_ref": "LOT-2024-03",
                    "kind": "contaminated_material",
                    "description": "Absorbents, rags and protective clothing from draining "
                    "two askarel capacitors, in 4 sealed UN drums",
                    "mass_kg": "85.000",
                    "pcb_mg_per_kg": "12000.000",
                    "concentration_basis": "gc_analysis",
                    "site_id": 2,
                    "stored_since": "2023-09-15",
                    "source_item_ids": [3],
                }
            ]
        }
    )


class PcbWasteLotPatch(PatchModel):
    """Fields of a stored lot that may change (not once a shipment carries it)."""

    _not_null: ClassVar[tuple[str, ...]] = (
        "lot_ref",
        "kind",
        "description",
        "mass_kg",
        "stored_since",
        "source_item_ids",
    )

    lot_ref: Ref | None = None
    kind: WasteKind | None = None
    description: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    mass_kg: PositiveMass | None = None
    pcb_mg_per_kg: MgPerKg | None = None
    concentration_basis: ConcentrationBasis | None = None
    site_id: Id | None = None
    storage_address: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    ubigeo: Ubigeo | None = None
    stored_since: date | None = None
    source_item_ids: list[Id] | None = Field(default=None, max_length=1000)

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"mass_kg": "86.500", "description": "Weighed again"}]}
    )


class PcbWasteLotOut(BaseModel):
    """A stored lot of PCB waste, with the shipment that carries it, if any."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    submission_id: int
    holder_id: int
    org_code: str
    lot_ref: str
    kind: WasteKind
    description: str
    mass_kg: Decimal
    pcb_mg_per_kg: Decimal | None
    concentration_basis: ConcentrationBasis | None
    site_id: int | None
    storage_address: str | None
    ubigeo: str
    department_code: str
    stored_since: date
    status: LotStatus
    shipment_id: int | None = Field(description="The shipment that carries the lot.")
    source_item_ids: list[int]
    created_at: datetime
    updated_at: datetime
    version: int


class ShipmentLineIn(StrictModel):
    """One lot or one PCB item of the same submission and holder, and the mass shipped."""

    lot_id: Id | None = None
    item_id: Id | None = None
    mass_kg: PositiveMass | None = Field(
        default=None,
        description="Default: the lot's mass, or the item's known mass. A lot travels whole; "
        "an item's mass may not fall short of its known mass (beyond the tolerance).",
    )

    @model_validator(mode="after")
    def _one_of(self) -> ShipmentLineIn:
        if (self.lot_id is None) == (self.item_id is None):
            raise ValueError("a line carries either lot_id or item_id")
        return self


class _ShipmentFields(StrictModel):
    notification_number: Ref = Field(
        description="Basel notification number (notification document, Article 6)."
    )
    movement_document_numbers: list[Ref] = Field(
        min_length=1, max_length=100, description="The movement document(s) of the shipment."
    )
    exporter: Name
    carrier: Name
    facility_name: Name = Field(description="The disposal facility.")
    facility_country: Country
    disposal_operation: Operation
    shipped_on: date
    received_on: date | None = None
    disposed_on: date | None = None
    certificate_ref: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="The facility's certificate of disposal."
    )
    mass_kg: PositiveMass = Field(description="Total shipped: the sum of the lines' masses.")


class PcbShipmentIn(_ShipmentFields):
    """A shipment of one holder's PCB wastes for disposal, in a PCB submission."""

    holder_id: Id
    lines: list[ShipmentLineIn] = Field(min_length=1, max_length=1000)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "holder_id": 1,
                    "notification_number": "PE-2024-0012",
                    "movement_document_numbers": ["PE-2024-0012-001"],
                    "exporter": "Empresa de Distribución Eléctrica Demo Lima Norte S.A.A.",
                    "carrier": "Transportes Demo EO-RS S.A.C.",
                    "facility_name": "Demo ESM incineration plant",
                    "facility_country": "FR",
                    "disposal_operation": "D10",
                    "shipped_on": "2024-10-15",
                    "received_on": "2024-11-04",
                    "mass_kg": "420.000",
                    "lines": [{"item_id": 4, "mass_kg": "300.000"}, {"lot_id": 2}],
                }
            ]
        }
    )


class PcbShipmentPatch(PatchModel):
    """Fields of a shipment that may change (its lines do not: remove and record it
    again)."""

    _not_null: ClassVar[tuple[str, ...]] = (
        "notification_number",
        "movement_document_numbers",
        "exporter",
        "carrier",
        "facility_name",
        "facility_country",
        "disposal_operation",
        "shipped_on",
        "mass_kg",
    )

    notification_number: Ref | None = None
    movement_document_numbers: list[Ref] | None = Field(default=None, min_length=1, max_length=100)
    exporter: Name | None = None
    carrier: Name | None = None
    facility_name: Name | None = None
    facility_country: Country | None = None
    disposal_operation: Operation | None = None
    shipped_on: date | None = None
    received_on: date | None = None
    disposed_on: date | None = None
    certificate_ref: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    mass_kg: PositiveMass | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"disposed_on": "2024-12-02", "certificate_ref": "CERT-DEMO-2024-118"}]
        }
    )


class ShipmentLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    lot_id: int | None
    item_id: int | None
    mass_kg: Decimal


class PcbShipmentOut(BaseModel):
    """A shipment for disposal, with what it carries."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    submission_id: int
    holder_id: int
    org_code: str
    notification_number: str
    movement_document_numbers: list[str]
    exporter: str
    carrier: str
    facility_name: str
    facility_country: str
    disposal_operation: str
    shipped_on: date
    received_on: date | None
    disposed_on: date | None
    certificate_ref: str | None
    mass_kg: Decimal
    lines: list[ShipmentLineOut]
    created_at: datetime
    updated_at: datetime
    version: int


class MassGroup(BaseModel):
    """A count and a mass, for one value of a dimension."""

    key: str = Field(description="The kind, department, country or operation code.")
    count: int = Field(description="Lots (storage) or shipments.")
    mass_kg: Decimal


class StorageTotals(BaseModel):
    lots: int
    mass_kg: Decimal
    by_kind: list[MassGroup]
    by_department: list[MassGroup]


class ShippedYear(BaseModel):
    year: int = Field(description="Calendar year of `shipped_on`.")
    shipments: int
    mass_kg: Decimal
    by_country: list[MassGroup] = Field(description="By the facility's country.")
    by_operation: list[MassGroup] = Field(description="By Basel Annex IV operation code.")


class PcbWasteTotalsOut(BaseModel):
    """Wastes in storage on a date and shipments per year, from validated data."""

    year: int | None = Field(description="Reporting year of the data counted (null: none).")
    submission_ids: list[int] = Field(description="The submissions counted.")
    as_of: date
    in_storage: StorageTotals = Field(
        description="Lots stored on `as_of`: stored_since on or before it, and not carried "
        "by a shipment shipped on or before it."
    )
    shipped_by_year: list[ShippedYear]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "year": 2024,
                    "submission_ids": [1],
                    "as_of": "2024-12-31",
                    "in_storage": {
                        "lots": 1,
                        "mass_kg": "85.000",
                        "by_kind": [
                            {"key": "contaminated_material", "count": 1, "mass_kg": "85.000"}
                        ],
                        "by_department": [{"key": "07", "count": 1, "mass_kg": "85.000"}],
                    },
                    "shipped_by_year": [
                        {
                            "year": 2024,
                            "shipments": 1,
                            "mass_kg": "420.000",
                            "by_country": [{"key": "FR", "count": 1, "mass_kg": "420.000"}],
                            "by_operation": [{"key": "D10", "count": 1, "mass_kg": "420.000"}],
                        }
                    ],
                }
            ]
        }
    )
