"""PCB classification and compliance flags (Stockholm Convention, Annex A Part II;
DOMAIN.md §1). The status workflow is in ``status``, masses and volumes in ``mass``.

Pure functions, no I/O. Thresholds and deadlines arrive as a ``Thresholds`` value so a
country plan stored in the database can replace the Convention's defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final


class EquipmentType(StrEnum):
    TRANSFORMER = "transformer"
    CAPACITOR = "capacitor"
    BUSHING = "bushing"
    SWITCH = "switch"
    CONTAINER = "container"
    OTHER = "other"


class OperatingStatus(StrEnum):
    IN_USE = "in_use"
    STANDBY = "standby"
    OUT_OF_SERVICE_STORED = "out_of_service_stored"
    DECONTAMINATED = "decontaminated"
    SHIPPED_FOR_DISPOSAL = "shipped_for_disposal"
    ELIMINATED = "eliminated"


class PcbClass(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    NON_PCB = "non_pcb"
    PRESUMED = "presumed"
    UNKNOWN = "unknown"


class AnalysisMethod(StrEnum):
    SCREENING = "screening"
    GC = "gc"
    NAMEPLATE = "nameplate"


class ConcentrationKind(StrEnum):
    MEASURED = "measured"
    ABOVE = "above"
    BELOW = "below"
    UNKNOWN = "unknown"


class ComplianceFlag(StrEnum):
    REMOVE_BY_DEADLINE = "remove_by_deadline"
    NON_COMPLIANT_USE = "non_compliant_use"
    ESM_OVERDUE = "esm_overdue"
    LABEL_MISSING = "label_missing"
    PROHIBITED_LOCATION = "prohibited_location"
    NEEDS_GC_CONFIRMATION = "needs_gc_confirmation"
    # The fluid's trade name is not one the inventory knows and no fluid kind was given:
    # a person must say what the fluid is (its mass cannot be estimated until then).
    TRADE_NAME_REVIEW = "trade_name_review"
    # A PCB class that rests on an unknown volume (neither recorded nor derivable from the
    # fluid mass and density): record the volume.
    VOLUME_UNKNOWN = "volume_unknown"
    # Recorded as decontaminated, with no GC analysis <= 50 mg/kg dated after it yet.
    AWAITING_VERIFICATION = "awaiting_verification"
    # PCB equipment still in use that leaks (the Convention allows only intact,
    # non-leaking equipment in use).
    LEAKING_IN_USE = "leaking_in_use"
    # PCB equipment in use in a populated area with no inspection within the interval.
    INSPECTION_OVERDUE = "inspection_overdue"


# Classes that carry the Convention's obligations (> 50 mg/kg, proven or presumed).
PCB_CLASSES: Final = frozenset({PcbClass.P1, PcbClass.P2, PcbClass.P3, PcbClass.PRESUMED})
IN_SERVICE: Final = frozenset({OperatingStatus.IN_USE, OperatingStatus.STANDBY})
# How often equipment in use in a populated area must be inspected, by default (months).
DEFAULT_INSPECTION_INTERVAL_MONTHS: Final = 12


def require_decimal(name: str, value: object, *, allow_negative: bool = False) -> Decimal:
    # Floats would smuggle binary rounding into thresholds and masses; refuse them early.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal, got {value!r}")
    if not allow_negative and value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Concentration limits (mg/kg), volume limits (L) and deadlines.

    Defaults are the Convention's; a country's own plan overrides them as data.
    """

    p1_mg_per_kg: Decimal = Decimal("100000")
    p2_mg_per_kg: Decimal = Decimal("500")
    p3_mg_per_kg: Decimal = Decimal("50")
    large_volume_l: Decimal = Decimal("5")
    small_volume_l: Decimal = Decimal("0.05")
    use_deadline: date = date(2025, 12, 31)
    esm_deadline: date = date(2028, 12, 31)
    presumed_before_year: int = 1987
    presumed_min_volume_l: Decimal = Decimal("5")

    def __post_init__(self) -> None:
        for name in (
            "p1_mg_per_kg",
            "p2_mg_per_kg",
            "p3_mg_per_kg",
            "large_volume_l",
            "small_volume_l",
            "presumed_min_volume_l",
        ):
            require_decimal(name, getattr(self, name))
        # classify() walks P1 -> P2 -> P3 and relies on this order.
        if not self.p3_mg_per_kg < self.p2_mg_per_kg < self.p1_mg_per_kg:
            raise ValueError("thresholds must satisfy p3 < p2 < p1")
        if self.small_volume_l > self.large_volume_l:
            raise ValueError("small_volume_l must not exceed large_volume_l")


@dataclass(frozen=True, slots=True)
class Analysis:
    """One analysis of an item's fluid.

    GC and nameplate carry ``value_mg_per_kg``; screening carries its cut-off and whether
    the result was positive (above the cut-off).
    """

    method: AnalysisMethod
    analysed_on: date
    value_mg_per_kg: Decimal | None = None
    screening_cutoff_mg_per_kg: Decimal | None = None
    screening_positive: bool | None = None

    def __post_init__(self) -> None:
        if self.method == AnalysisMethod.SCREENING:
            if self.value_mg_per_kg is not None:
                raise ValueError("a screening gives a cut-off answer, not a value")
            if self.screening_cutoff_mg_per_kg is None or self.screening_positive is None:
                raise ValueError("a screening needs its cut-off and a positive/negative result")
            require_decimal("screening_cutoff_mg_per_kg", self.screening_cutoff_mg_per_kg)
        else:
            if self.value_mg_per_kg is None:
                raise ValueError(f"a {self.method} analysis needs value_mg_per_kg")
            if self.screening_cutoff_mg_per_kg is not None or self.screening_positive is not None:
                raise ValueError(f"a {self.method} analysis has no screening cut-off")
            require_decimal("value_mg_per_kg", self.value_mg_per_kg)


@dataclass(frozen=True, slots=True)
class Concentration:
    """An item's effective concentration.

    ``value_mg_per_kg`` is the measured value (kind ``measured``), the screening cut-off
    (``above``: concentration > value; ``below``: concentration < value) or None
    (``unknown``). ``source`` is the method it came from, ``analysed_on`` that
    analysis's date.
    """

    kind: ConcentrationKind
    value_mg_per_kg: Decimal | None = None
    source: AnalysisMethod | None = None
    # Not part of what the concentration *is* (two equal results on other days are equal).
    analysed_on: date | None = field(default=None, compare=False)


UNKNOWN_CONCENTRATION: Final = Concentration(ConcentrationKind.UNKNOWN)


def _latest(analyses: list[Analysis], method: AnalysisMethod) -> Analysis | None:
    candidates = [a for a in analyses if a.method == method]
    if not candidates:
        return None
    if method == AnalysisMethod.SCREENING:
        # Same-day ties: positive beats negative (it is what triggers GC confirmation);
        # among positives the highest cut-off, among negatives the lowest, is the
        # tightest bound. The order of the input never matters.
        def screening_key(a: Analysis) -> tuple[date, bool, Decimal]:
            cutoff = a.screening_cutoff_mg_per_kg or Decimal(0)
            return (
                a.analysed_on,
                bool(a.screening_positive),
                cutoff if a.screening_positive else -cutoff,
            )

        return max(candidates, key=screening_key)
    # Same-day ties between values: the higher one, erring on the side of caution.
    return max(candidates, key=lambda a: (a.analysed_on, a.value_mg_per_kg or Decimal(0)))


def effective_concentration(analyses: Iterable[Analysis]) -> Concentration:
    """The concentration to classify an item by.

    Latest GC result if any (it overrides everything, whatever the dates); else the latest
    nameplate value; else the latest screening as a bound; else unknown.

    Nameplate: a value read from the label (e.g. "< 2 ppm" recorded as 2 mg/kg) is treated
    as *measured*: it is the manufacturer's declaration of what was filled, more specific
    than a screening bound and free of screening's false positives, so it also beats a
    more recent screening. It cannot show contamination after manufacture (top-ups with
    PCB oil), which is why any GC result overrides it.
    """
    items = list(analyses)
    for method in (AnalysisMethod.GC, AnalysisMethod.NAMEPLATE):
        found = _latest(items, method)
        if found is not None:
            return Concentration(
                ConcentrationKind.MEASURED, found.value_mg_per_kg, method, found.analysed_on
            )
    screening = _latest(items, AnalysisMethod.SCREENING)
    if screening is not None:
        kind = ConcentrationKind.ABOVE if screening.screening_positive else ConcentrationKind.BELOW
        return Concentration(
            kind,
            screening.screening_cutoff_mg_per_kg,
            AnalysisMethod.SCREENING,
            screening.analysed_on,
        )
    return UNKNOWN_CONCENTRATION


def _class_for_known(
    c: Decimal, volume: Decimal | None, t: Thresholds, *, strict: bool
) -> PcbClass:
    # ``strict`` True: c is a measured value and must exceed the threshold.
    # ``strict`` False: c is a screening cut-off the true value is known to exceed, so
    # reaching the threshold already proves "greater than" it.
    def over(threshold: Decimal) -> bool:
        return c > threshold if strict else c >= threshold

    # An unknown volume is not a small one: it satisfies the volume rules.
    large = volume is None or volume > t.large_volume_l
    small = volume is None or volume > t.small_volume_l
    if over(t.p1_mg_per_kg) and large:
        return PcbClass.P1
    if over(t.p2_mg_per_kg) and large:
        return PcbClass.P2
    if over(t.p3_mg_per_kg) and small:
        return PcbClass.P3
    return PcbClass.NON_PCB


def _presumed_or_unknown(volume: Decimal | None, year: int | None, t: Thresholds) -> PcbClass:
    if (
        year is not None
        and year < t.presumed_before_year
        and (volume is None or volume > t.presumed_min_volume_l)
    ):
        return PcbClass.PRESUMED
    return PcbClass.UNKNOWN


def classify(
    concentration: Concentration,
    fluid_volume_l: Decimal | None,
    year_manufactured: int | None,
    thresholds: Thresholds,
) -> PcbClass:
    """Classify an item: P1, P2, P3 or non-PCB when the concentration settles it, else
    presumed or unknown.

    All comparisons are strict: exactly 50 mg/kg or exactly 5 L is *not* above. A
    concentration above a threshold whose volume rule fails falls to the next class whose
    rule holds (e.g. 200 000 mg/kg in 3 L is P3), else non-PCB.

    Screening "above X" proves only concentration > X, so it reaches a class only when
    X >= that class's threshold; "above X" with X below the P3 threshold settles nothing.
    "Below X" with X <= the P3 threshold proves non-PCB; with a higher X it settles
    nothing. Whatever is not settled is treated like an unknown concentration: presumed
    PCB if manufactured before ``presumed_before_year`` with more than
    ``presumed_min_volume_l`` of fluid, else unknown.

    ``fluid_volume_l`` is the recorded volume, else the one derived from the fluid mass
    and density (``mass.fluid_volume``). None means *unknown*, and an unknown volume is
    not a small volume: it satisfies every volume rule, so the class follows the
    concentration (GC 300 000 mg/kg with no volume is P1), and an untested item
    manufactured before ``presumed_before_year`` is presumed. Such an item raises
    ``volume_unknown`` (``compliance_flags``) until its volume is recorded.
    """
    value = concentration.value_mg_per_kg
    kind = concentration.kind
    if kind == ConcentrationKind.MEASURED and value is not None:
        return _class_for_known(value, fluid_volume_l, thresholds, strict=True)
    if kind == ConcentrationKind.ABOVE and value is not None and value >= thresholds.p3_mg_per_kg:
        return _class_for_known(value, fluid_volume_l, thresholds, strict=False)
    if kind == ConcentrationKind.BELOW and value is not None and value <= thresholds.p3_mg_per_kg:
        return PcbClass.NON_PCB
    return _presumed_or_unknown(fluid_volume_l, year_manufactured, thresholds)


def proven_contaminated(concentration: Concentration, thresholds: Thresholds) -> bool:
    """The fluid is shown to exceed 0.005 % (the P3 concentration), whatever its volume:
    a measured value above it, or a positive screening whose cut-off reaches it."""
    value = concentration.value_mg_per_kg
    if value is None:
        return False
    if concentration.kind == ConcentrationKind.MEASURED:
        return value > thresholds.p3_mg_per_kg
    return concentration.kind == ConcentrationKind.ABOVE and value >= thresholds.p3_mg_per_kg


def decontamination_verified(
    concentration: Concentration, decontaminated_on: date | None, thresholds: Thresholds
) -> bool:
    """Decontamination is proven by a GC analysis at or below 50 mg/kg (the P3
    concentration) dated after it: the effective concentration is then that GC result
    (the latest GC always is). Without a decontamination date nothing can be after it."""
    c = concentration
    return (
        c.kind == ConcentrationKind.MEASURED
        and c.source == AnalysisMethod.GC
        and c.value_mg_per_kg is not None
        and c.value_mg_per_kg <= thresholds.p3_mg_per_kg
        and c.analysed_on is not None
        and decontaminated_on is not None
        and c.analysed_on > decontaminated_on
    )


@dataclass(frozen=True, slots=True)
class PcbItemFacts:
    """What the compliance rules need to know about one item."""

    pcb_class: PcbClass
    status: OperatingStatus
    labelled: bool
    in_food_feed_area: bool
    concentration: Concentration = field(default=UNKNOWN_CONCENTRATION)
    trade_name_unrecognised: bool = False
    volume_unknown: bool = False
    # Since when ``status`` holds (for decontaminated: the date of decontamination).
    status_since: date | None = None
    leaking: bool = False
    in_populated_area: bool = False
    # The latest inspection dated on or before the day judged (None: none recorded).
    last_inspected_on: date | None = None


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (the month's last day when it is
    shorter: 31 March - 1 month = 28 or 29 February)."""
    if months < 0:
        raise ValueError(f"months must be >= 0, got {months}")
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = (following - date.resolution).day
    return date(year, month, min(day.day, last))


def inspection_overdue(last_inspected_on: date | None, as_of: date, interval_months: int) -> bool:
    """No inspection on or after ``as_of`` - ``interval_months`` and on or before
    ``as_of`` (an inspection exactly one interval ago still counts)."""
    if last_inspected_on is None or last_inspected_on > as_of:
        return True
    return last_inspected_on < months_before(as_of, interval_months)


def _condition_flags(item: PcbItemFacts, as_of: date, interval_months: int) -> set[ComplianceFlag]:
    """leaking_in_use and inspection_overdue (DOMAIN.md §1: in use only intact,
    non-leaking equipment; in populated areas, protected and inspected regularly)."""
    flags: set[ComplianceFlag] = set()
    if item.pcb_class not in PCB_CLASSES or item.status not in IN_SERVICE:
        return flags
    if item.leaking:
        flags.add(ComplianceFlag.LEAKING_IN_USE)
    if item.in_populated_area and inspection_overdue(
        item.last_inspected_on, as_of, interval_months
    ):
        flags.add(ComplianceFlag.INSPECTION_OVERDUE)
    return flags


def compliance_flags(
    item: PcbItemFacts,
    as_of: date,
    thresholds: Thresholds,
    inspection_interval_months: int = DEFAULT_INSPECTION_INTERVAL_MONTHS,
) -> set[ComplianceFlag]:
    """Flags an item raises on ``as_of`` under the given deadlines.

    - remove_by_deadline / non_compliant_use: a PCB item (P1-P3 or presumed) in use or on
      standby, on or before / after the use deadline.
    - esm_overdue: after the ESM deadline, a PCB item, or any item whose fluid is proven
      above 0.005 % whatever its volume (Annex A Part II (e) sets no volume condition),
      not yet eliminated nor decontaminated *and verified*.
    - awaiting_verification: decontaminated, without a GC analysis <= 50 mg/kg dated
      after the decontamination (``decontamination_verified``).
    - label_missing: P1/P2 not labelled (not raised once eliminated: nothing left to label).
    - prohibited_location: a PCB item in a food/feed area and not eliminated.
    - needs_gc_confirmation: the effective concentration is only a positive screening.
    - trade_name_review: a trade name no fluid kind could be derived from, and no kind.
    - volume_unknown: a PCB item whose volume is neither recorded nor derivable.
    - leaking_in_use: a PCB item in use or on standby that is recorded as leaking.
    - inspection_overdue: a PCB item in use or on standby in a populated area without an
      inspection in the ``inspection_interval_months`` up to ``as_of``.
    """
    flags: set[ComplianceFlag] = set()
    is_pcb = item.pcb_class in PCB_CLASSES
    eliminated = item.status == OperatingStatus.ELIMINATED
    if is_pcb and item.status in IN_SERVICE:
        if as_of <= thresholds.use_deadline:
            flags.add(ComplianceFlag.REMOVE_BY_DEADLINE)
        else:
            flags.add(ComplianceFlag.NON_COMPLIANT_USE)
    decontaminated = item.status == OperatingStatus.DECONTAMINATED
    verified = decontaminated and decontamination_verified(
        item.concentration, item.status_since, thresholds
    )
    if decontaminated and not verified:
        flags.add(ComplianceFlag.AWAITING_VERIFICATION)
    managed = eliminated or verified
    esm_applies = is_pcb or proven_contaminated(item.concentration, thresholds)
    if esm_applies and not managed and as_of > thresholds.esm_deadline:
        flags.add(ComplianceFlag.ESM_OVERDUE)
    if item.pcb_class in {PcbClass.P1, PcbClass.P2} and not item.labelled and not eliminated:
        flags.add(ComplianceFlag.LABEL_MISSING)
    if is_pcb and item.in_food_feed_area and not eliminated:
        flags.add(ComplianceFlag.PROHIBITED_LOCATION)
    conc = item.concentration
    if conc.kind == ConcentrationKind.ABOVE and conc.source == AnalysisMethod.SCREENING:
        flags.add(ComplianceFlag.NEEDS_GC_CONFIRMATION)
    if item.trade_name_unrecognised:
        flags.add(ComplianceFlag.TRADE_NAME_REVIEW)
    if is_pcb and item.volume_unknown:
        flags.add(ComplianceFlag.VOLUME_UNKNOWN)
    return flags | _condition_flags(item, as_of, inspection_interval_months)
