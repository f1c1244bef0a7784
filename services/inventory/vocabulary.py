"""Codes used in inventory data, with their labels in Spanish and English (served by
``GET /v1/public/vocabularies``; data carries codes only)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from services.inventory.registry.rules import DEPARTMENTS
from services.inventory.wastes.labels import WASTE_VOCABULARIES

Labels = Mapping[str, tuple[str, str]]


def _v(entries: dict[str, tuple[str, str]]) -> Labels:
    return MappingProxyType(entries)


class SiteType(StrEnum):
    INDUSTRIAL = "industrial"
    URBAN = "urban"
    RURAL = "rural"


class Sector(StrEnum):
    ELECTRICITY_GENERATION = "electricity_generation"
    ELECTRICITY_TRANSMISSION = "electricity_transmission"
    ELECTRICITY_DISTRIBUTION = "electricity_distribution"
    MINING = "mining"
    OIL_GAS = "oil_gas"
    MANUFACTURING = "manufacturing"
    WATER_SANITATION = "water_sanitation"
    HEALTH = "health"
    TRANSPORT = "transport"
    COMMERCE_SERVICES = "commerce_services"
    PUBLIC_ADMINISTRATION = "public_administration"
    OTHER = "other"


class FluidKind(StrEnum):
    ASKAREL = "askarel"
    MINERAL_OIL = "mineral_oil"
    SILICONE_OIL = "silicone_oil"
    ESTER = "ester"
    OTHER = "other"


class MercuryCategory(StrEnum):
    """Main source categories of the UNEP mercury Toolkit; ASGM is its own category."""

    FUELS_ENERGY = "fuels_energy"
    PRIMARY_METALS = "primary_metals"
    ASGM = "asgm"
    OTHER_MINERALS = "other_minerals"
    INTENTIONAL_INDUSTRIAL = "intentional_industrial"
    CONSUMER_PRODUCTS = "consumer_products"
    OTHER_INTENTIONAL = "other_intentional"
    RECYCLED_METALS = "recycled_metals"
    WASTE_INCINERATION = "waste_incineration"
    WASTE_DEPOSITION = "waste_deposition"
    CREMATORIA_CEMETERIES = "crematoria_cemeteries"


SOURCE_GROUPS: Final = _v(
    {
        "1": ("Incineración de desechos", "Waste incineration"),
        "2": (
            "Producción de metales ferrosos y no ferrosos",
            "Ferrous and non-ferrous metal production",
        ),
        "3": ("Generación de calor y energía", "Heat and power generation"),
        "4": ("Producción de productos minerales", "Production of mineral products"),
        "5": ("Transporte", "Transport"),
        "6": ("Procesos de quema a cielo abierto", "Open burning processes"),
        "7": (
            "Producción y uso de sustancias químicas y bienes de consumo",
            "Production and use of chemicals and consumer goods",
        ),
        "8": ("Varios", "Miscellaneous"),
        "9": ("Disposición final y rellenos", "Disposal and landfill"),
        "10": ("Sitios contaminados y puntos críticos", "Contaminated sites and hotspots"),
    }
)

VOCABULARIES: Final[Mapping[str, Labels]] = MappingProxyType(
    {
        "equipment_type": _v(
            {
                "transformer": ("Transformador", "Transformer"),
                "capacitor": ("Condensador", "Capacitor"),
                "bushing": ("Aislador pasatapas", "Bushing"),
                "switch": ("Interruptor / disyuntor", "Switch / breaker"),
                "container": ("Cilindro o contenedor de fluido", "Drum or container of fluid"),
                "other": ("Otro", "Other"),
            }
        ),
        "operating_status": _v(
            {
                "in_use": ("En uso", "In use"),
                "standby": ("En reserva", "Stand-by"),
                "out_of_service_stored": (
                    "Fuera de servicio y almacenado",
                    "Out of service and stored",
                ),
                "decontaminated": ("Descontaminado", "Decontaminated"),
                "shipped_for_disposal": ("Enviado a eliminación", "Shipped for disposal"),
                "eliminated": ("Eliminado", "Eliminated"),
            }
        ),
        "pcb_class": _v(
            {
                "P1": ("P1: > 100 000 mg/kg y > 5 L", "P1: > 100,000 mg/kg and > 5 L"),
                "P2": ("P2: > 500 mg/kg y > 5 L", "P2: > 500 mg/kg and > 5 L"),
                "P3": ("P3: > 50 mg/kg y > 0,05 L", "P3: > 50 mg/kg and > 0.05 L"),
                "non_pcb": ("No PCB", "Non-PCB"),
                "presumed": ("Presunto PCB (sin análisis)", "Presumed PCB (untested)"),
                "unknown": ("Desconocido", "Unknown"),
            }
        ),
        "compliance_flag": _v(
            {
                "remove_by_deadline": (
                    "Retirar de uso antes del plazo (2025)",
                    "Remove from use by the deadline (2025)",
                ),
                "non_compliant_use": (
                    "En uso después del plazo",
                    "In use after the deadline",
                ),
                "esm_overdue": (
                    "Gestión ambientalmente racional vencida (2028)",
                    "Environmentally sound management overdue (2028)",
                ),
                "label_missing": ("Falta etiqueta", "Label missing"),
                "prohibited_location": (
                    "En zona de alimentos o piensos",
                    "In a food or feed area",
                ),
                "needs_gc_confirmation": (
                    "Requiere confirmación por cromatografía",
                    "Needs GC confirmation",
                ),
                "trade_name_review": (
                    "Nombre comercial desconocido: revisar el tipo de fluido",
                    "Trade name unknown: review the fluid kind",
                ),
                "volume_unknown": (
                    "Volumen desconocido: clase según la concentración",
                    "Volume unknown: classed by concentration",
                ),
                "awaiting_verification": (
                    "Descontaminación pendiente de verificación (CG ≤ 50 mg/kg)",
                    "Decontamination awaiting verification (GC ≤ 50 mg/kg)",
                ),
            }
        ),
        "analysis_method": _v(
            {
                "screening": ("Tamizaje (kit de cloro)", "Screening (chlorine kit)"),
                "gc": ("Cromatografía de gases", "Gas chromatography"),
                "nameplate": ("Placa del fabricante", "Nameplate"),
            }
        ),
        "fluid_kind": _v(
            {
                "askarel": ("Askarel (PCB)", "Askarel (PCB)"),
                "mineral_oil": ("Aceite mineral", "Mineral oil"),
                "silicone_oil": ("Aceite de silicona", "Silicone oil"),
                "ester": ("Éster", "Ester"),
                "other": ("Otro", "Other"),
            }
        ),
        "sector": _v(
            {
                "electricity_generation": ("Generación eléctrica", "Electricity generation"),
                "electricity_transmission": (
                    "Transmisión eléctrica",
                    "Electricity transmission",
                ),
                "electricity_distribution": (
                    "Distribución eléctrica",
                    "Electricity distribution",
                ),
                "mining": ("Minería", "Mining"),
                "oil_gas": ("Hidrocarburos", "Oil and gas"),
                "manufacturing": ("Industria manufacturera", "Manufacturing"),
                "water_sanitation": ("Agua y saneamiento", "Water and sanitation"),
                "health": ("Salud", "Health"),
                "transport": ("Transporte", "Transport"),
                "commerce_services": ("Comercio y servicios", "Commerce and services"),
                "public_administration": ("Administración pública", "Public administration"),
                "other": ("Otro", "Other"),
            }
        ),
        "site_type": _v(
            {
                "industrial": ("Industrial", "Industrial"),
                "urban": ("Urbano", "Urban"),
                "rural": ("Rural", "Rural"),
            }
        ),
        "submission_status": _v(
            {
                "draft": ("Borrador", "Draft"),
                "submitted": ("Enviado", "Submitted"),
                "under_review": ("En revisión", "Under review"),
                "validated": ("Validado", "Validated"),
                "returned": ("Devuelto con observaciones", "Returned with comments"),
            }
        ),
        "section": _v(
            {
                "pcb": ("PCB", "PCBs"),
                "upops": ("COP no intencionales", "Unintentional POPs"),
                "mercury": ("Mercurio", "Mercury"),
            }
        ),
        "release_vector": _v(
            {
                "air": ("Aire", "Air"),
                "water": ("Agua", "Water"),
                "land": ("Suelo", "Land"),
                "product": ("Producto", "Product"),
                "residue": ("Residuo", "Residue"),
            }
        ),
        "mercury_pathway": _v(
            {
                "air": ("Aire", "Air"),
                "water": ("Agua", "Water"),
                "land": ("Suelo", "Land"),
                "by_products": ("Subproductos e impurezas", "By-products and impurities"),
                "general_waste": ("Residuos generales", "General waste"),
                "sector_specific": (
                    "Tratamiento o disposición específica del sector",
                    "Sector-specific treatment or disposal",
                ),
            }
        ),
        "mercury_category": _v(
            {
                "fuels_energy": (
                    "Extracción y uso de combustibles y fuentes de energía",
                    "Extraction and use of fuels and energy sources",
                ),
                "primary_metals": (
                    "Producción primaria de metales (sin amalgamación de oro)",
                    "Primary (virgin) metal production (without gold amalgamation)",
                ),
                "asgm": (
                    "Extracción de oro artesanal y en pequeña escala con mercurio (MAPE)",
                    "Artisanal and small-scale gold mining with mercury (ASGM)",
                ),
                "other_minerals": (
                    "Producción de otros minerales y materiales con impurezas de mercurio",
                    "Production of other minerals and materials with mercury impurities",
                ),
                "intentional_industrial": (
                    "Uso intencional de mercurio en procesos industriales",
                    "Intentional use of mercury in industrial processes",
                ),
                "consumer_products": (
                    "Productos de consumo con uso intencional de mercurio",
                    "Consumer products with intentional use of mercury",
                ),
                "other_intentional": ("Otros usos intencionales", "Other intentional uses"),
                "recycled_metals": (
                    "Producción de metales reciclados",
                    "Production of recycled metals",
                ),
                "waste_incineration": (
                    "Incineración y quema de desechos",
                    "Waste incineration and burning",
                ),
                "waste_deposition": (
                    "Disposición de desechos, rellenos y aguas residuales",
                    "Waste deposition, landfilling and waste water",
                ),
                "crematoria_cemeteries": (
                    "Crematorios y cementerios",
                    "Crematoria and cemeteries",
                ),
            }
        ),
        "upops_source_group": SOURCE_GROUPS,
        "department": _v({code: (name, name) for code, name in DEPARTMENTS.items()}),
        **WASTE_VOCABULARIES,
    }
)
