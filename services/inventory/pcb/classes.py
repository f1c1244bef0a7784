"""Class and compliance flags of stored PCB items, under a schedule's thresholds
(``schedules``).

Two forms of the same rules: in Python for one item (``rules.classify`` and
``rules.compliance_flags``), and as SQL expressions for filters and reports, so national
figures are computed by the database without loading items. Tests check that both agree
on every boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Numeric

from services.inventory.pcb.mass import (
    DEFAULT_FLUID_DENSITIES,
    MassEstimate,
    MassMethod,
    NotWeighed,
    fluid_mass,
    total_mass,
    volume_for_rules,
)
from services.inventory.pcb.models import (
    FluidDensity,
    PcbInspection,
    PcbItem,
    PcbStatusEvent,
)
from services.inventory.pcb.rules import (
    DEFAULT_INSPECTION_INTERVAL_MONTHS,
    PCB_CLASSES,
    AnalysisMethod,
    ComplianceFlag,
    Concentration,
    ConcentrationKind,
    OperatingStatus,
    PcbClass,
    PcbItemFacts,
    Thresholds,
    classify,
    compliance_flags,
    months_before,
)
from services.inventory.pcb.status import StatusInForce

_PCB = sorted(c.value for c in PCB_CLASSES)
_IN_SERVICE = (OperatingStatus.IN_USE.value, OperatingStatus.STANDBY.value)
_DECONTAMINATED = OperatingStatus.DECONTAMINATED.value
_ELIMINATED = OperatingStatus.ELIMINATED.value


async def load_densities(session: AsyncSession) -> dict[str, Decimal]:
    """Fluid densities (kg/L) by fluid kind (the rules' defaults when none are stored)."""
    rows = await session.execute(select(FluidDensity.fluid_kind, FluidDensity.density_kg_per_l))
    stored = {str(kind): Decimal(density) for kind, density in rows.all()}
    return stored or dict(DEFAULT_FLUID_DENSITIES)


# -- one item, in Python ------------------------------------------------------------------


def concentration_of(item: PcbItem) -> Concentration:
    """The stored effective concentration of an item."""
    kind = ConcentrationKind(item.conc_kind)
    source = AnalysisMethod(item.conc_source) if item.conc_source else None
    return Concentration(kind, item.conc_value_mg_per_kg, source, item.conc_analysed_on)


def _volume(item: PcbItem, densities: dict[str, Decimal]) -> Decimal | None:
    return volume_for_rules(item.fluid_volume_l, item.fluid_mass_kg, item.fluid_kind, densities)


def item_class(item: PcbItem, thresholds: Thresholds, densities: dict[str, Decimal]) -> PcbClass:
    """An item's class under ``thresholds`` (volume derived from mass where needed)."""
    volume = _volume(item, densities)
    return classify(concentration_of(item), volume, item.year_manufactured, thresholds)


def trade_name_unrecognised(item: PcbItem) -> bool:
    """A trade name was given but no fluid kind (none given, none derived from it)."""
    return item.fluid_kind is None and bool((item.fluid_trade_name or "").strip())


def item_flags(
    item: PcbItem,
    thresholds: Thresholds,
    densities: dict[str, Decimal],
    as_of: date,
    state: StatusInForce | None = None,
    last_inspected_on: date | None = None,
    inspection_months: int = DEFAULT_INSPECTION_INTERVAL_MONTHS,
) -> list[ComplianceFlag]:
    """An item's compliance flags on ``as_of``, sorted, judged in ``state`` (the status
    in force on ``as_of``; by default the current one) and on its latest inspection
    dated on or before ``as_of``."""
    state = state or StatusInForce(OperatingStatus(item.status), item.status_since)
    facts = PcbItemFacts(
        pcb_class=item_class(item, thresholds, densities),
        status=state.status,
        status_since=state.since,
        labelled=item.labelled,
        in_food_feed_area=item.in_food_feed_area,
        concentration=concentration_of(item),
        trade_name_unrecognised=trade_name_unrecognised(item),
        volume_unknown=_volume(item, densities) is None,
        leaking=item.leaking,
        in_populated_area=item.in_populated_area,
        last_inspected_on=last_inspected_on,
    )
    return sorted(compliance_flags(facts, as_of, thresholds, inspection_months))


def item_masses(item: PcbItem, densities: dict[str, Decimal]) -> tuple[MassEstimate, MassEstimate]:
    """An item's fluid mass and total mass, measured or estimated (or not weighed)."""
    fluid = fluid_mass(item.fluid_volume_l, item.fluid_mass_kg, item.fluid_kind, densities)
    return fluid, total_mass(item.total_mass_kg, item.dry_mass_kg, fluid)


# -- as SQL ------------------------------------------------------------------------------


def _num(value: Decimal) -> ColumnElement[Decimal]:
    return literal(value, Numeric(18, 6))


def volume_over_sql(limit: Decimal, volume: Any, mass: Any, density: Any) -> Any:
    """SQL: the fluid volume exceeds ``limit`` L: the recorded volume, else the fluid mass
    against ``limit`` x density (``mass.volume_for_rules``), else true: an unknown volume
    is not a small one."""
    return case(
        (volume.is_not(None), volume > _num(limit)),
        (and_(mass.is_not(None), density.is_not(None)), mass > _num(limit) * density),
        else_=true(),
    )


def volume_unknown_sql(volume: Any, mass: Any, density: Any) -> Any:
    """SQL: no volume recorded, nor derivable from the fluid mass and density."""
    return and_(volume.is_(None), or_(mass.is_(None), density.is_(None)))


_NULL_NUM = literal(None, Numeric(18, 6))


def class_sql(
    t: Thresholds,
    *,
    kind: Any,
    value: Any,
    volume: Any,
    year: Any,
    mass: Any = _NULL_NUM,
    density: Any = _NULL_NUM,
) -> ColumnElement[str]:
    """``rules.classify`` as a SQL CASE over the given column expressions (``mass`` and
    ``density``: the fluid's, to derive a volume that was not recorded).

    Comparisons with NULL are never true in SQL, which is the rules' "a missing year
    satisfies no rule"; a missing volume is handled by ``volume_over_sql``. The branches
    are ordered so the common case (a measured non-PCB item) is settled by two
    comparisons.
    """
    p1, p2, p3 = _num(t.p1_mg_per_kg), _num(t.p2_mg_per_kg), _num(t.p3_mg_per_kg)
    large = volume_over_sql(t.large_volume_l, volume, mass, density)
    small = volume_over_sql(t.small_volume_l, volume, mass, density)
    measured = case(
        (value <= p3, PcbClass.NON_PCB.value),
        (and_(large, value > p1), PcbClass.P1.value),
        (and_(large, value > p2), PcbClass.P2.value),
        (small, PcbClass.P3.value),
        else_=PcbClass.NON_PCB.value,
    )
    # Screening "above X" proves only "> X": reaching a threshold already proves it.
    above = case(
        (and_(large, value >= p1), PcbClass.P1.value),
        (and_(large, value >= p2), PcbClass.P2.value),
        (small, PcbClass.P3.value),
        else_=PcbClass.NON_PCB.value,
    )
    presumed = and_(
        year < t.presumed_before_year,
        volume_over_sql(t.presumed_min_volume_l, volume, mass, density),
    )
    return case(
        (and_(kind == ConcentrationKind.MEASURED.value, value.is_not(None)), measured),
        (and_(kind == ConcentrationKind.ABOVE.value, value >= p3), above),
        (and_(kind == ConcentrationKind.BELOW.value, value <= p3), PcbClass.NON_PCB.value),
        (presumed, PcbClass.PRESUMED.value),
        else_=PcbClass.UNKNOWN.value,
    )


def contaminated_sql(t: Thresholds) -> ColumnElement[bool]:
    """``rules.proven_contaminated`` of a ``PcbItem`` row (whatever its volume)."""
    p3 = _num(t.p3_mg_per_kg)
    value = PcbItem.conc_value_mg_per_kg
    return or_(
        and_(PcbItem.conc_kind == ConcentrationKind.MEASURED.value, value > p3),
        and_(PcbItem.conc_kind == ConcentrationKind.ABOVE.value, value >= p3),
    )


def item_class_sql(t: Thresholds, densities: dict[str, Decimal]) -> ColumnElement[str]:
    """The class of a ``PcbItem`` row."""
    return class_sql(
        t,
        kind=PcbItem.conc_kind,
        value=PcbItem.conc_value_mg_per_kg,
        volume=PcbItem.fluid_volume_l,
        year=PcbItem.year_manufactured,
        mass=PcbItem.fluid_mass_kg,
        density=_density_sql(densities),
    )


class StatusSql(NamedTuple):
    """The status an item is judged in, and since when, as SQL expressions: its current
    status by default, or the one in force on a past date (``status_on_sql``)."""

    status: Any = PcbItem.status
    since: Any = PcbItem.status_since


def status_on_sql(as_of: date) -> StatusSql:
    """The status in force on ``as_of``: that of the last change recorded on or before
    it (an undated first status counts as always), else the earliest recorded one."""
    e = PcbStatusEvent

    def latest(column: Any) -> Any:
        return (
            select(column)
            .where(e.item_id == PcbItem.id, or_(e.changed_on.is_(None), e.changed_on <= as_of))
            .order_by(e.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    def first(column: Any) -> Any:
        return select(column).where(e.item_id == PcbItem.id).order_by(e.id).limit(1)

    in_force = latest(e.to_status)
    return StatusSql(
        status=func.coalesce(in_force, first(e.to_status).scalar_subquery(), PcbItem.status),
        since=case(
            (in_force.is_not(None), latest(e.changed_on)),
            else_=first(e.changed_on).scalar_subquery(),
        ),
    )


def verified_sql(t: Thresholds, since: Any) -> ColumnElement[bool]:
    """``rules.decontamination_verified``: the effective concentration is a GC result at
    or below the P3 concentration dated after ``since``."""
    return and_(
        PcbItem.conc_kind == ConcentrationKind.MEASURED.value,
        PcbItem.conc_source == AnalysisMethod.GC.value,
        PcbItem.conc_value_mg_per_kg <= _num(t.p3_mg_per_kg),
        PcbItem.conc_analysed_on.is_not(None),
        since.is_not(None),
        PcbItem.conc_analysed_on > since,
    )


def flag_sql(
    flag: ComplianceFlag,
    t: Thresholds,
    densities: dict[str, Decimal],
    as_of: date,
    cls: ColumnElement[str],
    state: StatusSql | None = None,
    inspection_months: int = DEFAULT_INSPECTION_INTERVAL_MONTHS,
) -> ColumnElement[bool]:
    """``rules.compliance_flags`` for one flag as a SQL condition on a ``PcbItem`` row
    (judged in ``state``, by default the current status)."""
    state = state or StatusSql()
    is_pcb = cls.in_(_PCB)
    status = state.status
    in_service = and_(is_pcb, status.in_(_IN_SERVICE))
    awaiting = and_(status == _DECONTAMINATED, ~verified_sql(t, state.since))
    managed = or_(
        status == _ELIMINATED, and_(status == _DECONTAMINATED, verified_sql(t, state.since))
    )
    conditions: dict[ComplianceFlag, Callable[[], Any]] = {
        ComplianceFlag.REMOVE_BY_DEADLINE: lambda: (
            in_service if as_of <= t.use_deadline else false()
        ),
        ComplianceFlag.NON_COMPLIANT_USE: lambda: in_service if as_of > t.use_deadline else false(),
        ComplianceFlag.ESM_OVERDUE: lambda: (
            and_(or_(is_pcb, contaminated_sql(t)), ~managed) if as_of > t.esm_deadline else false()
        ),
        ComplianceFlag.LABEL_MISSING: lambda: and_(
            cls.in_((PcbClass.P1.value, PcbClass.P2.value)),
            PcbItem.labelled.is_(False),
            status != _ELIMINATED,
        ),
        ComplianceFlag.PROHIBITED_LOCATION: lambda: and_(
            is_pcb, PcbItem.in_food_feed_area.is_(True), status != _ELIMINATED
        ),
        ComplianceFlag.NEEDS_GC_CONFIRMATION: lambda: and_(
            PcbItem.conc_kind == ConcentrationKind.ABOVE.value,
            PcbItem.conc_source == AnalysisMethod.SCREENING.value,
        ),
        ComplianceFlag.TRADE_NAME_REVIEW: lambda: and_(
            PcbItem.fluid_kind.is_(None),
            PcbItem.fluid_trade_name.is_not(None),
            func.trim(PcbItem.fluid_trade_name) != "",
        ),
        ComplianceFlag.VOLUME_UNKNOWN: lambda: and_(
            is_pcb,
            volume_unknown_sql(
                PcbItem.fluid_volume_l, PcbItem.fluid_mass_kg, _density_sql(densities)
            ),
        ),
        ComplianceFlag.AWAITING_VERIFICATION: lambda: awaiting,
        ComplianceFlag.LEAKING_IN_USE: lambda: and_(in_service, PcbItem.leaking.is_(True)),
        ComplianceFlag.INSPECTION_OVERDUE: lambda: and_(
            in_service,
            PcbItem.in_populated_area.is_(True),
            ~inspected_sql(months_before(as_of, inspection_months), as_of),
        ),
    }
    condition: ColumnElement[bool] = conditions[flag]()
    return condition


def inspected_sql(since: date, until: date) -> ColumnElement[bool]:
    """The item has an inspection dated from ``since`` to ``until`` (both included)."""
    return exists().where(
        PcbInspection.item_id == PcbItem.id,
        PcbInspection.inspected_on >= since,
        PcbInspection.inspected_on <= until,
    )


def _density_sql(densities: dict[str, Decimal]) -> Any:
    """The density of the item's fluid kind (NULL for a kind without one)."""
    known = sorted((k, d) for k, d in densities.items() if d > 0)
    if not known:
        return literal(None, Numeric(18, 6))
    return case(*((PcbItem.fluid_kind == kind, _num(d)) for kind, d in known), else_=None)


def fluid_mass_sql(densities: dict[str, Decimal]) -> Any:
    """``mass.fluid_mass`` in SQL: the fluid mass (kg) as recorded, else volume x the
    fluid's density, else NULL (not weighed)."""
    return case(
        (PcbItem.fluid_mass_kg.is_not(None), PcbItem.fluid_mass_kg),
        else_=PcbItem.fluid_volume_l * _density_sql(densities),
    )


DENSITY_BASIS_PREFIX = "density:"


def fluid_basis_sql(densities: dict[str, Decimal]) -> ColumnElement[str]:
    """How the fluid mass was obtained: ``measured``, ``density:<fluid kind>`` (volume x
    that kind's density) or the reason it was not weighed."""
    known = sorted(k for k, d in densities.items() if d > 0)
    return case(
        (PcbItem.fluid_mass_kg.is_not(None), MassMethod.MEASURED.value),
        (PcbItem.fluid_volume_l.is_(None), NotWeighed.NO_VOLUME_OR_MASS.value),
        *((PcbItem.fluid_kind == k, DENSITY_BASIS_PREFIX + k) for k in known),
        else_=NotWeighed.NO_DENSITY.value,
    )


def total_mass_sql(densities: dict[str, Decimal]) -> Any:
    """``mass.total_mass`` in SQL: as recorded, else dry + fluid mass, else NULL."""
    return case(
        (PcbItem.total_mass_kg.is_not(None), PcbItem.total_mass_kg),
        else_=PcbItem.dry_mass_kg + fluid_mass_sql(densities),
    )


def total_basis_sql(densities: dict[str, Decimal]) -> ColumnElement[str]:
    """How the total mass was obtained: ``measured``, ``dry_plus_fluid`` or
    ``not_weighed``."""
    return case(
        (PcbItem.total_mass_kg.is_not(None), MassMethod.MEASURED.value),
        (
            and_(PcbItem.dry_mass_kg.is_not(None), fluid_mass_sql(densities).is_not(None)),
            MassMethod.DRY_PLUS_FLUID.value,
        ),
        else_=MassMethod.NOT_WEIGHED.value,
    )
