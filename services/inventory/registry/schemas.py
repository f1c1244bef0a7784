"""Holder and site representations: what the API accepts and what it shows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.inventory.registry.rules import coordinates_in_peru, ruc_is_valid, ubigeo_is_valid
from services.inventory.vocabulary import Sector, SiteType
from shared.openapi_contract import NotNullInSchema


def _ruc(value: str) -> str:
    if not ruc_is_valid(value):
        raise ValueError("not a valid RUC (11 digits, prefix 10/15/17/20, check digit)")
    return value


def _ubigeo(value: str) -> str:
    if not ubigeo_is_valid(value):
        raise ValueError("not a valid UBIGEO (6 digits, department 01-25)")
    return value


Ruc = Annotated[str, Field(min_length=11, max_length=11), AfterValidator(_ruc)]
Ubigeo = Annotated[str, Field(min_length=6, max_length=6), AfterValidator(_ubigeo)]
Name = Annotated[str, Field(min_length=1, max_length=300)]


def scaled(places: int) -> AfterValidator:
    """Quantize to the column's scale, so a value reads back as it was stored."""
    quantum = Decimal(1).scaleb(-places)
    return AfterValidator(lambda value: value.quantize(quantum))


Latitude = Annotated[Decimal, Field(ge=-90, le=90, max_digits=9, decimal_places=6), scaled(6)]
Longitude = Annotated[Decimal, Field(ge=-180, le=180, max_digits=9, decimal_places=6), scaled(6)]
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class StrictModel(BaseModel):
    """Input: unknown fields (owner, status, timestamps ...) are errors, never ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PatchModel(NotNullInSchema, StrictModel):
    """A partial update: only the fields sent change; ``_not_null`` may not be set to null
    (nor does the schema offer null for them)."""

    _not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> Any:
        nulls = [
            f for f in self._not_null if f in self.model_fields_set and getattr(self, f) is None
        ]
        if nulls:
            raise ValueError(f"may not be null: {', '.join(nulls)}")
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        return self


class HolderIn(StrictModel):
    """A new holder; it belongs to the caller's organisation."""

    ruc: Ruc
    name: Name
    sector: Sector
    is_public: bool
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: Email | None = None
    contact_phone: str | None = Field(default=None, max_length=40)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ruc": "20100326796",
                    "name": "Empresa de Distribución Eléctrica Demo S.A.A.",
                    "sector": "electricity_distribution",
                    "is_public": False,
                    "contact_name": "Área de Medio Ambiente",
                    "contact_email": "ambiente@demo.example",
                }
            ]
        }
    )


class HolderPatch(PatchModel):
    """Fields of a holder that may change (the RUC is its identity and does not)."""

    _not_null: ClassVar[tuple[str, ...]] = ("name", "sector", "is_public")

    name: Name | None = None
    sector: Sector | None = None
    is_public: bool | None = None
    contact_name: str | None = Field(default=None, max_length=200)
    contact_email: Email | None = None
    contact_phone: str | None = Field(default=None, max_length=40)


class HolderOut(BaseModel):
    """A holder as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ruc: str
    name: str
    sector: str
    is_public: bool
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    org_code: str
    version: int
    created_at: datetime
    updated_at: datetime


def _coordinates(lat: Decimal | None, lon: Decimal | None) -> None:
    if (lat is None) != (lon is None):
        raise ValueError("give both latitude and longitude, or neither")
    if lat is not None and lon is not None and not coordinates_in_peru(lat, lon):
        raise ValueError("coordinates are outside Peru (WGS84, lat -18.4..0, lon -81.4..-68.6)")


class SiteIn(StrictModel):
    """A new site of one of the caller's holders."""

    holder_id: int = Field(ge=1, le=2**31 - 1)
    name: Name
    address: str = Field(min_length=1, max_length=500)
    ubigeo: Ubigeo
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    site_type: SiteType

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "holder_id": 1,
                    "name": "Subestación Demo Chavarría",
                    "address": "Av. Demo 123, Independencia, Lima",
                    "ubigeo": "150112",
                    "latitude": "-12.000000",
                    "longitude": "-77.050000",
                    "site_type": "urban",
                }
            ]
        }
    )

    @model_validator(mode="after")
    def _check_coordinates(self) -> SiteIn:
        _coordinates(self.latitude, self.longitude)
        return self


class SitePatch(PatchModel):
    """Fields of a site that may change (latitude and longitude together)."""

    _not_null: ClassVar[tuple[str, ...]] = ("name", "address", "ubigeo", "site_type")

    name: Name | None = None
    address: str | None = Field(default=None, min_length=1, max_length=500)
    ubigeo: Ubigeo | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    site_type: SiteType | None = None

    @model_validator(mode="after")
    def _check_coordinates(self) -> SitePatch:
        if {"latitude", "longitude"} & self.model_fields_set:
            _coordinates(self.latitude, self.longitude)
        return self


class SiteOut(BaseModel):
    """A site as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    holder_id: int
    name: str
    address: str
    ubigeo: str
    department_code: str
    latitude: Decimal | None
    longitude: Decimal | None
    site_type: str
    version: int
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _department(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            data = {k: getattr(data, k) for k in cls.model_fields if k != "department_code"}
        return {**data, "department_code": str(data["ubigeo"])[:2]}
