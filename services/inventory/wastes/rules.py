"""Stored PCB wastes and their shipments for disposal: kinds, statuses, the Basel
Convention's disposal operations and the integrity rules of a shipment (pure functions, no
I/O).

Terms after the Basel Convention (wastes "consisting of, containing or contaminated with"
PCBs: Annex I Y10, Annex VIII A3180) and the Stockholm Convention Annex A Part II (liquids,
equipment and materials contaminated with PCBs, managed in an environmentally sound way):
a lot is liquid (drained askarel, contaminated oil), drained equipment (carcasses of
transformers and capacitors after draining), contaminated material (soil, rags,
absorbents, packaging, protective clothing) or other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class WasteKind(StrEnum):
    LIQUID = "liquid"
    DRAINED_EQUIPMENT = "drained_equipment"
    CONTAMINATED_MATERIAL = "contaminated_material"
    OTHER = "other"


class ConcentrationBasis(StrEnum):
    """Where a lot's PCB concentration comes from."""

    GC_ANALYSIS = "gc_analysis"  # a laboratory result (gas chromatography) of the lot
    NAMEPLATE = "nameplate"  # read from the equipment's nameplate or data sheet
    SOURCE_ITEMS = "source_items"  # taken from the analyses of the items it came from
    ESTIMATED = "estimated"  # an estimate (e.g. presumed askarel), to be confirmed


class LotStatus(StrEnum):
    """A lot is stored until a shipment carries it, and disposed once the shipment's
    disposal is recorded: the status follows the shipments, it is never written."""

    STORED = "stored"
    SHIPPED = "shipped"
    DISPOSED = "disposed"


# Basel Convention, Annex IV "Disposal operations" (text of 22 March 1989, as in force;
# e.g. http://www.sdnbd.org/sdi/convention/basel/Basel%20Convention.htm, and the Secretariat's
# working documents on the review of Annex IV, decision BC-13/2). Section A: operations
# which do not lead to recovery; section B: operations which may lead to recovery. Labels
# shortened, in English.
DISPOSAL_OPERATIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "D1": "Deposit into or onto land (e.g. landfill)",
        "D2": "Land treatment (e.g. biodegradation of liquid or sludgy discards in soils)",
        "D3": "Deep injection",
        "D4": "Surface impoundment",
        "D5": "Specially engineered landfill",
        "D6": "Release into a water body except seas/oceans",
        "D7": "Release into seas/oceans including sea-bed insertion",
        "D8": "Biological treatment not specified elsewhere in Annex IV",
        "D9": "Physico-chemical treatment not specified elsewhere in Annex IV",
        "D10": "Incineration on land",
        "D11": "Incineration at sea",
        "D12": "Permanent storage (e.g. emplacement of containers in a mine)",
        "D13": "Blending or mixing prior to an operation of section A",
        "D14": "Repackaging prior to an operation of section A",
        "D15": "Storage pending an operation of section A",
        "R1": "Use as a fuel or other means to generate energy",
        "R2": "Solvent reclamation/regeneration",
        "R3": "Recycling/reclamation of organic substances not used as solvents",
        "R4": "Recycling/reclamation of metals and metal compounds",
        "R5": "Recycling/reclamation of other inorganic materials",
        "R6": "Regeneration of acids or bases",
        "R7": "Recovery of components used for pollution abatement",
        "R8": "Recovery of components from catalysts",
        "R9": "Used oil re-refining or other reuses of previously used oil",
        "R10": "Land treatment resulting in benefit to agriculture or ecological improvement",
        "R11": "Uses of residual materials obtained from operations R1-R10",
        "R12": "Exchange of wastes for an operation R1-R11",
        "R13": "Accumulation of material intended for an operation of section B",
    }
)


def is_disposal_operation(code: str) -> bool:
    """A code of Basel Annex IV (D1-D15, R1-R13), upper case."""
    return code in DISPOSAL_OPERATIONS


@dataclass(frozen=True, slots=True)
class ShipmentDates:
    """The dated steps of a shipment: left the holder, reached the facility, disposed."""

    shipped_on: date
    received_on: date | None = None
    disposed_on: date | None = None


def date_problems(dates: ShipmentDates, today: date) -> list[tuple[str, str]]:
    """(field, reason) for every date in the future or out of order (shipped, then
    received, then disposed; a disposal needs the reception before it)."""
    problems: list[tuple[str, str]] = []
    named = (
        ("shipped_on", dates.shipped_on),
        ("received_on", dates.received_on),
        ("disposed_on", dates.disposed_on),
    )
    for name, day in named:
        if day is not None and day > today:
            problems.append((name, f"{name} {day} is in the future"))
    if dates.received_on is not None and dates.received_on < dates.shipped_on:
        problems.append(
            (
                "received_on",
                f"received_on {dates.received_on} is before shipped_on {dates.shipped_on}",
            )
        )
    if dates.disposed_on is not None:
        if dates.received_on is None:
            problems.append(
                ("received_on", "a disposal needs received_on (the facility's receipt)")
            )
        elif dates.disposed_on < dates.received_on:
            problems.append(
                (
                    "disposed_on",
                    f"disposed_on {dates.disposed_on} is before received_on {dates.received_on}",
                )
            )
    return problems


def lot_status(dates: ShipmentDates | None) -> LotStatus:
    """A lot's status from the shipment that carries it (None: none does)."""
    if dates is None:
        return LotStatus.STORED
    return LotStatus.DISPOSED if dates.disposed_on is not None else LotStatus.SHIPPED


def total_problem(
    declared_kg: Decimal, lines_kg: Sequence[Decimal], tolerance_kg: Decimal
) -> str | None:
    """Why a shipment's declared mass does not match the masses of what it carries (more
    than ``tolerance_kg`` apart either way), else None."""
    carried = sum(lines_kg, Decimal(0))
    if abs(declared_kg - carried) <= tolerance_kg:
        return None
    return (
        f"mass_kg {declared_kg} kg is not the sum of the lots and items carried "
        f"({carried} kg, tolerance {tolerance_kg} kg)"
    )


def lot_mass_problem(line_kg: Decimal, lot_kg: Decimal, tolerance_kg: Decimal) -> str | None:
    """Why a lot's shipped mass is not its recorded mass (a lot travels whole: record
    two lots to ship part of one), else None."""
    if abs(line_kg - lot_kg) <= tolerance_kg:
        return None
    return (
        f"mass_kg {line_kg} kg is not the lot's mass {lot_kg} kg (tolerance {tolerance_kg} kg): "
        "a lot travels whole"
    )
