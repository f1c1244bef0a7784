"""The status workflow of a PCB item (DOMAIN.md §1: in use, stand-by, out of service and
stored, decontaminated, shipped for disposal, eliminated "with dates"), the evidence
``eliminated`` needs, and the status in force on a date (pure functions, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from services.inventory.countries import is_country
from services.inventory.pcb.rules import OperatingStatus

_S = OperatingStatus
ALLOWED_TRANSITIONS: Final[Mapping[OperatingStatus, frozenset[OperatingStatus]]] = MappingProxyType(
    {
        _S.IN_USE: frozenset({_S.STANDBY, _S.OUT_OF_SERVICE_STORED}),
        _S.STANDBY: frozenset({_S.IN_USE, _S.OUT_OF_SERVICE_STORED}),
        _S.OUT_OF_SERVICE_STORED: frozenset({_S.DECONTAMINATED, _S.SHIPPED_FOR_DISPOSAL}),
        # Decontaminated equipment may return to service (after a clean GC result).
        _S.DECONTAMINATED: frozenset({_S.IN_USE, _S.SHIPPED_FOR_DISPOSAL}),
        _S.SHIPPED_FOR_DISPOSAL: frozenset({_S.ELIMINATED}),
        _S.ELIMINATED: frozenset(),
    }
)


class TransitionError(ValueError):
    """A status change the workflow does not allow, or one lacking its evidence."""


@dataclass(frozen=True, slots=True)
class EliminationEvidence:
    """Proof that an item was destroyed: where, in which country (ISO 3166-1 alpha-2),
    when, under which certificate, and how much mass."""

    disposal_facility: str
    country: str
    disposed_on: date
    certificate_ref: str
    mass_kg: Decimal


def evidence_problems(evidence: EliminationEvidence) -> list[str]:
    """Everything wrong with the evidence, in field order; empty when it is complete."""
    problems: list[str] = []
    if not evidence.disposal_facility.strip():
        problems.append("disposal_facility is blank")
    if not is_country(evidence.country):
        problems.append(f"country {evidence.country!r} is not an ISO 3166-1 alpha-2 code")
    if not isinstance(evidence.disposed_on, date):
        problems.append("disposed_on is not a date")
    if not evidence.certificate_ref.strip():
        problems.append("certificate_ref is blank")
    mass = evidence.mass_kg
    if not isinstance(mass, Decimal) or not mass.is_finite() or mass <= 0:
        problems.append(f"mass_kg must be a Decimal greater than 0, got {mass!r}")
    return problems


def check_transition(
    current: OperatingStatus,
    new: OperatingStatus,
    evidence: EliminationEvidence | None = None,
) -> None:
    """Raise ``TransitionError`` unless ``current -> new`` is allowed.

    Moving to ``eliminated`` also needs complete ``EliminationEvidence``; evidence given
    for any other move is ignored.
    """
    try:
        # Statuses read back from the database are plain strings.
        current, new = OperatingStatus(current), OperatingStatus(new)
    except ValueError as exc:
        raise TransitionError(f"unknown status: {exc}") from exc
    if new == current:
        raise TransitionError(f"item is already {current}")
    allowed = ALLOWED_TRANSITIONS[current]
    if new not in allowed:
        options = ", ".join(sorted(allowed)) or "none, it is final"
        raise TransitionError(f"cannot go from {current} to {new} (allowed: {options})")
    if new == OperatingStatus.ELIMINATED:
        if evidence is None:
            raise TransitionError("eliminated requires elimination evidence")
        problems = evidence_problems(evidence)
        if problems:
            raise TransitionError("incomplete elimination evidence: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class StatusInForce:
    """An item's status on some date, and since when it held (None: not recorded)."""

    status: OperatingStatus
    since: date | None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One recorded status change: the new status and the day it took effect."""

    to_status: str
    changed_on: date | None


def status_on(history: Sequence[StatusChange], as_of: date) -> StatusInForce | None:
    """The status in force on ``as_of`` from the changes in recorded order: the last one
    taking effect on or before that day (an undated first status counts as always in
    force); before the first recorded change, the earliest known status. None without
    history."""
    if not history:
        return None
    in_force = [c for c in history if c.changed_on is None or c.changed_on <= as_of]
    change = in_force[-1] if in_force else history[0]
    return StatusInForce(OperatingStatus(change.to_status), change.changed_on)
