"""Fluid volume and mass of a PCB item, measured or estimated, and the checks that keep
them consistent (pure; DOMAIN.md §1: "mass from volume needs a density").

Nothing here ever turns "not known" into zero: an estimate says how it was made (the
density it used), and what cannot be weighed says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

from services.inventory.pcb.rules import require_decimal

MASS_QUANTUM_KG: Final = Decimal("0.001")

# kg/L at about 20 °C, the defaults the migration seeds (data: the service reads the
# fluid_densities table). To verify per product:
# - askarel: 1.4-1.5 kg/L (DOMAIN.md §1; UNEP PCB inventory guidance); 1.5 taken, the
#   common value for trichlorobenzene/PCB transformer askarels;
# - mineral oil: about 0.88 kg/L (DOMAIN.md §1; IEC 60296 allows at most 0.895 at 20 °C);
# - silicone oil (polydimethylsiloxane, IEC 60836): about 0.96 kg/L;
# - ester: natural esters (IEC 62770) about 0.92, synthetic esters (IEC 61099) about
#   0.97 kg/L; 0.92 taken (natural esters fill most distribution transformers).
# "other" has no density on purpose: its mass is not estimated.
DEFAULT_FLUID_DENSITIES: Final[Mapping[str, Decimal]] = MappingProxyType(
    {
        "askarel": Decimal("1.5"),
        "mineral_oil": Decimal("0.88"),
        "silicone_oil": Decimal("0.96"),
        "ester": Decimal("0.92"),
    }
)


class MassMethod(StrEnum):
    MEASURED = "measured"
    VOLUME_X_DENSITY = "volume_x_density"
    DRY_PLUS_FLUID = "dry_plus_fluid"
    NOT_WEIGHED = "not_weighed"


class VolumeMethod(StrEnum):
    MEASURED = "measured"
    MASS_OVER_DENSITY = "mass_over_density"
    UNKNOWN = "unknown"


class NotWeighed(StrEnum):
    """Why a mass could not be given."""

    NO_VOLUME_OR_MASS = "no_fluid_volume_or_mass"
    NO_DENSITY = "no_density_for_fluid_kind"
    NO_TOTAL_OR_DRY_MASS = "no_total_or_dry_mass"


@dataclass(frozen=True, slots=True)
class MassEstimate:
    """A mass in kg (None: not weighed, ``reason`` says why) and how it was obtained."""

    kg: Decimal | None
    method: MassMethod
    density_kg_per_l: Decimal | None = None
    reason: NotWeighed | None = None


@dataclass(frozen=True, slots=True)
class VolumeEstimate:
    """A fluid volume in L (None: unknown) and how it was obtained."""

    litres: Decimal | None
    method: VolumeMethod
    density_kg_per_l: Decimal | None = None


def density_of(kind: str | None, densities: Mapping[str, Decimal]) -> Decimal | None:
    """The density of a fluid kind, if there is one (never for an unknown kind)."""
    if kind is None:
        return None
    found = densities.get(kind)
    return found if found is not None and found > 0 else None


def _kg(value: Decimal) -> Decimal:
    return value.quantize(MASS_QUANTUM_KG, rounding=ROUND_HALF_UP)


def mass_from_volume(volume_l: Decimal, density_kg_per_l: Decimal) -> Decimal:
    """Fluid mass in kg from volume (L) and density (kg/L), rounded half-up to the gram
    (the precision the inventory stores masses at)."""
    require_decimal("volume_l", volume_l)
    require_decimal("density_kg_per_l", density_kg_per_l)
    if density_kg_per_l == 0:
        raise ValueError("density_kg_per_l must be greater than 0")
    return _kg(volume_l * density_kg_per_l)


def fluid_mass(
    volume_l: Decimal | None,
    mass_kg: Decimal | None,
    kind: str | None,
    densities: Mapping[str, Decimal],
) -> MassEstimate:
    """The fluid mass: as recorded, else volume x the fluid kind's density, else not
    weighed (no volume, or no density for the kind: unknown, ``other``)."""
    if mass_kg is not None:
        return MassEstimate(mass_kg, MassMethod.MEASURED)
    if volume_l is None:
        return MassEstimate(None, MassMethod.NOT_WEIGHED, reason=NotWeighed.NO_VOLUME_OR_MASS)
    density = density_of(kind, densities)
    if density is None:
        return MassEstimate(None, MassMethod.NOT_WEIGHED, reason=NotWeighed.NO_DENSITY)
    return MassEstimate(mass_from_volume(volume_l, density), MassMethod.VOLUME_X_DENSITY, density)


def total_mass(
    total_kg: Decimal | None, dry_kg: Decimal | None, fluid: MassEstimate
) -> MassEstimate:
    """The equipment's total mass: as recorded, else dry mass + fluid mass, else not
    weighed (a missing total is never 0 t)."""
    if total_kg is not None:
        return MassEstimate(total_kg, MassMethod.MEASURED)
    if dry_kg is not None and fluid.kg is not None:
        return MassEstimate(dry_kg + fluid.kg, MassMethod.DRY_PLUS_FLUID, fluid.density_kg_per_l)
    return MassEstimate(None, MassMethod.NOT_WEIGHED, reason=NotWeighed.NO_TOTAL_OR_DRY_MASS)


def fluid_volume(
    volume_l: Decimal | None,
    mass_kg: Decimal | None,
    kind: str | None,
    densities: Mapping[str, Decimal],
) -> VolumeEstimate:
    """The fluid volume: as recorded, else fluid mass / the kind's density, else unknown
    (an unknown volume is not a small one: see ``rules.classify``)."""
    if volume_l is not None:
        return VolumeEstimate(volume_l, VolumeMethod.MEASURED)
    density = density_of(kind, densities)
    if mass_kg is None or density is None:
        return VolumeEstimate(None, VolumeMethod.UNKNOWN)
    return VolumeEstimate(_kg(mass_kg / density), VolumeMethod.MASS_OVER_DENSITY, density)


def volume_for_rules(
    volume_l: Decimal | None,
    mass_kg: Decimal | None,
    kind: str | None,
    densities: Mapping[str, Decimal],
) -> Decimal | None:
    """The volume the classification compares: recorded, else the exact quotient of fluid
    mass and density (not rounded, so it agrees with SQL comparing mass > limit x density),
    else None (unknown)."""
    if volume_l is not None:
        return volume_l
    density = density_of(kind, densities)
    return None if mass_kg is None or density is None else mass_kg / density


def known_mass(
    total_kg: Decimal | None,
    dry_kg: Decimal | None,
    fluid_kg: Decimal | None,
    volume_l: Decimal | None,
    kind: str | None,
    densities: Mapping[str, Decimal],
) -> Decimal | None:
    """The most an item is known to weigh (what its disposal must account for): its total
    mass, measured or estimated, else its fluid mass or dry mass alone."""
    fluid = fluid_mass(volume_l, fluid_kg, kind, densities)
    total = total_mass(total_kg, dry_kg, fluid)
    if total.kg is not None:
        return total.kg
    return fluid.kg if fluid.kg is not None else dry_kg


def density_problem(
    volume_l: Decimal | None,
    mass_kg: Decimal | None,
    densities: Mapping[str, Decimal],
    tolerance: Decimal,
) -> str | None:
    """Why a recorded fluid volume and mass cannot both be right (their ratio fits no
    fluid's density within ``tolerance``, a fraction), else None."""
    known = [d for d in densities.values() if d > 0]
    if volume_l is None or mass_kg is None or not known or (volume_l == 0 and mass_kg == 0):
        return None
    low, high = min(known) * (1 - tolerance), max(known) * (1 + tolerance)
    if volume_l == 0 or not low <= mass_kg / volume_l <= high:
        implied = "undefined" if volume_l == 0 else f"{(mass_kg / volume_l):.3f} kg/L"
        return (
            f"{mass_kg} kg of fluid in {volume_l} L is a density of {implied}, outside "
            f"{low:.3f}-{high:.3f} kg/L (every known fluid within {tolerance:%})"
        )
    return None


@dataclass(frozen=True, slots=True)
class MassChecks:
    """What recorded masses are checked against: the fluid densities, how far a fluid's
    mass / volume may stray from every one of them (a fraction), and how far a disposed
    mass may fall short of the item's known mass (kg). The tolerances are settings."""

    densities: Mapping[str, Decimal]
    density_tolerance: Decimal
    disposed_mass_tolerance_kg: Decimal

    def fluid_problem(self, volume_l: Decimal | None, mass_kg: Decimal | None) -> str | None:
        """Why a fluid volume and mass cannot both be right, if they cannot."""
        problem = density_problem(volume_l, mass_kg, self.densities, self.density_tolerance)
        return None if problem is None else f"fluid volume and mass disagree: {problem}"

    def disposed_mass_problem(self, item: Any, disposed_kg: Decimal) -> str | None:
        """Why a disposed mass does not account for the item (anything with its
        total_mass_kg, dry_mass_kg, fluid_mass_kg, fluid_volume_l and fluid_kind)."""
        known = known_mass(
            item.total_mass_kg,
            item.dry_mass_kg,
            item.fluid_mass_kg,
            item.fluid_volume_l,
            item.fluid_kind,
            self.densities,
        )
        if known is None or disposed_kg >= known - self.disposed_mass_tolerance_kg:
            return None
        return (
            f"mass_kg {disposed_kg} kg is less than the item's known mass {known} kg "
            f"(tolerance {self.disposed_mass_tolerance_kg} kg): the whole item must be "
            "accounted for"
        )
