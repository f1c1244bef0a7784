"""Shipments of PCB wastes for disposal and what they carry, and what the PCB items ask of
them (elimination evidence naming a shipment; items a shipment carries): plain functions,
session first. Visibility and ownership as for the lots (``wastes.service``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.history import record_change, snapshot
from services.inventory.pcb.mass import MassChecks, known_mass
from services.inventory.pcb.models import PcbItem, PcbStatusEvent
from services.inventory.pcb.rules import OperatingStatus
from services.inventory.registry.service import add_recorded, change_recorded, field_error
from services.inventory.submissions.models import Submission
from services.inventory.wastes.models import (
    PcbShipment,
    PcbShipmentLine,
    PcbWasteLot,
    PcbWasteSource,
)
from services.inventory.wastes.rules import (
    LotStatus,
    ShipmentDates,
    date_problems,
    lot_mass_problem,
    lot_status,
    total_problem,
)
from services.inventory.wastes.schemas import (
    PcbShipmentIn,
    PcbShipmentOut,
    PcbShipmentPatch,
    ShipmentLineIn,
    ShipmentLineOut,
)
from services.inventory.wastes.service import holder_of, today
from shared.problems import Problem
from shared.security import Principal

# Equipment still in use (or ready to be) is not shipped for disposal.
_NOT_SHIPPABLE = frozenset({OperatingStatus.IN_USE.value, OperatingStatus.STANDBY.value})


# -- shipments ----------------------------------------------------------------------------


def _check_dates(dates: ShipmentDates) -> None:
    problems = date_problems(dates, today())
    if problems:
        field, message = problems[0]
        raise field_error(field, message)


def _lot_line(
    line: ShipmentLineIn,
    lot: PcbWasteLot | None,
    where: str,
    place: str,
    data: PcbShipmentIn,
    tolerance_kg: Decimal,
) -> tuple[Decimal, str | None]:
    """The mass shipped of a lot (given, else its own), and why it does not fit."""
    if lot is None:
        raise field_error(f"{where}.lot_id", f"No lot {line.lot_id} of {place}.")
    if lot.status != LotStatus.STORED:
        raise field_error(f"{where}.lot_id", f"Lot {lot.id} is already {lot.status}.")
    if lot.stored_since > data.shipped_on:
        raise field_error(
            f"{where}.lot_id",
            f"Lot {lot.id} was stored from {lot.stored_since}, after shipped_on {data.shipped_on}.",
        )
    kg = line.mass_kg if line.mass_kg is not None else lot.mass_kg
    return kg, lot_mass_problem(kg, lot.mass_kg, tolerance_kg)


def _item_line(
    line: ShipmentLineIn, item: PcbItem | None, where: str, place: str, checks: MassChecks
) -> tuple[Decimal, str | None]:
    """The mass shipped of an item (given, else its known mass), and why it does not
    fit."""
    if item is None:
        raise field_error(f"{where}.item_id", f"No PCB item {line.item_id} of {place}.")
    if item.status in _NOT_SHIPPABLE:
        raise field_error(
            f"{where}.item_id",
            f"Item {item.id} is {item.status}: equipment is taken out of service before it "
            "is shipped for disposal.",
        )
    known = known_mass(
        item.total_mass_kg,
        item.dry_mass_kg,
        item.fluid_mass_kg,
        item.fluid_volume_l,
        item.fluid_kind,
        checks.densities,
    )
    kg = line.mass_kg if line.mass_kg is not None else known
    if kg is None:
        raise field_error(
            f"{where}.mass_kg", f"Item {item.id} has no known mass: give the mass shipped."
        )
    return kg, checks.disposed_mass_problem(item, kg)


async def _line_masses(
    session: AsyncSession,
    submission: Submission,
    data: PcbShipmentIn,
    checks: MassChecks,
) -> list[Decimal]:
    """The mass of each line (given, else the lot's or item's), after checking that each
    lot and item may travel in this shipment."""
    lot_ids = [line.lot_id for line in data.lines if line.lot_id is not None]
    item_ids = [line.item_id for line in data.lines if line.item_id is not None]
    for name, ids in (("lot_id", lot_ids), ("item_id", item_ids)):
        if len(set(ids)) != len(ids):
            raise field_error(f"lines.{name}", f"A {name} is carried twice.")
    mine = (PcbWasteLot.submission_id == submission.id, PcbWasteLot.holder_id == data.holder_id)
    lots = {
        lot.id: lot
        for lot in await session.scalars(
            select(PcbWasteLot).where(PcbWasteLot.id.in_(lot_ids), *mine)
        )
    }
    items = {
        item.id: item
        for item in await session.scalars(
            select(PcbItem).where(
                PcbItem.id.in_(item_ids),
                PcbItem.submission_id == submission.id,
                PcbItem.holder_id == data.holder_id,
            )
        )
    }
    shipped_items = set(
        await session.scalars(
            select(PcbShipmentLine.item_id).where(PcbShipmentLine.item_id.in_(item_ids))
        )
    )
    place = f"holder {data.holder_id} in submission {submission.id}"
    masses: list[Decimal] = []
    for n, line in enumerate(data.lines):
        where = f"lines.{n}"
        if line.lot_id is not None:
            tolerance = checks.disposed_mass_tolerance_kg
            kg, problem = _lot_line(line, lots.get(line.lot_id), where, place, data, tolerance)
        else:
            if line.item_id in shipped_items:
                raise field_error(
                    f"{where}.item_id", f"Item {line.item_id} is in another shipment."
                )
            kg, problem = _item_line(line, items.get(line.item_id or 0), where, place, checks)
        if problem is not None:
            raise field_error(f"{where}.mass_kg", problem)
        masses.append(kg)
    return masses


async def _set_lot_statuses(
    session: AsyncSession, shipment: PcbShipment | None, lot_ids: Sequence[int]
) -> None:
    """Rewrite the carried lots' status from the shipment (None: back in storage). Each
    lot's version moves, as its representation changes."""
    if not lot_ids:
        return
    dates = (
        None
        if shipment is None
        else ShipmentDates(shipment.shipped_on, shipment.received_on, shipment.disposed_on)
    )
    status = lot_status(dates).value
    for lot in await session.scalars(select(PcbWasteLot).where(PcbWasteLot.id.in_(lot_ids))):
        if lot.status != status:
            lot.status = status
    await session.flush()


async def create_shipment(
    session: AsyncSession,
    principal: Principal,
    submission: Submission,
    data: PcbShipmentIn,
    checks: MassChecks,
) -> PcbShipment:
    """Record a shipment and what it carries; its lots are shipped (or disposed) from
    then on."""
    await holder_of(session, submission, data.holder_id)
    _check_dates(ShipmentDates(data.shipped_on, data.received_on, data.disposed_on))
    masses = await _line_masses(session, submission, data, checks)
    problem = total_problem(data.mass_kg, masses, checks.disposed_mass_tolerance_kg)
    if problem is not None:
        raise field_error("mass_kg", problem)
    shipment = PcbShipment(
        **data.model_dump(exclude={"lines"}),
        submission_id=submission.id,
        org_code=submission.org_code,
    )
    await add_recorded(session, principal, "pcb_shipment", shipment)
    session.add_all(
        PcbShipmentLine(
            shipment_id=shipment.id, lot_id=line.lot_id, item_id=line.item_id, mass_kg=kg
        )
        for line, kg in zip(data.lines, masses, strict=True)
    )
    await session.flush()
    await _set_lot_statuses(session, shipment, [line.lot_id for line in data.lines if line.lot_id])
    return shipment


async def _lines(
    session: AsyncSession, shipment_ids: Sequence[int]
) -> dict[int, list[PcbShipmentLine]]:
    found: dict[int, list[PcbShipmentLine]] = {i: [] for i in shipment_ids}
    if shipment_ids:
        rows = await session.scalars(
            select(PcbShipmentLine)
            .where(PcbShipmentLine.shipment_id.in_(shipment_ids))
            .order_by(PcbShipmentLine.id)
        )
        for line in rows:
            found[line.shipment_id].append(line)
    return found


async def _check_citing_evidence(
    session: AsyncSession, shipment: PcbShipment, merged: dict[str, Any]
) -> None:
    """The elimination evidence that names the shipment must still hold: its country is
    the destination, its disposal not before the shipment left."""
    rows = await session.execute(
        select(
            PcbStatusEvent.item_id, PcbStatusEvent.disposal_country, PcbStatusEvent.disposed_on
        ).where(PcbStatusEvent.shipment_id == shipment.id)
    )
    for item_id, country, disposed_on in rows:
        if country != merged["facility_country"]:
            raise field_error(
                "facility_country",
                f"The elimination evidence of item {item_id} names this shipment and {country}.",
            )
        if disposed_on is not None and disposed_on < merged["shipped_on"]:
            raise field_error(
                "shipped_on",
                f"The elimination evidence of item {item_id} names this shipment, disposed on "
                f"{disposed_on}.",
            )


async def update_shipment(
    session: AsyncSession,
    principal: Principal,
    shipment: PcbShipment,
    patch: PcbShipmentPatch,
    checks: MassChecks,
) -> None:
    """Change a shipment's facts (its dates as they happen); the merged shipment is
    checked as a new one would be."""
    changes = patch.model_dump(exclude_unset=True)
    merged = {
        name: changes.get(name, getattr(shipment, name)) for name in PcbShipmentPatch.model_fields
    }
    _check_dates(ShipmentDates(merged["shipped_on"], merged["received_on"], merged["disposed_on"]))
    await _check_citing_evidence(session, shipment, merged)
    lines = (await _lines(session, [shipment.id]))[shipment.id]
    lot_ids = [line.lot_id for line in lines if line.lot_id is not None]
    if "shipped_on" in changes and lot_ids:
        latest = await session.scalar(
            select(func.max(PcbWasteLot.stored_since)).where(PcbWasteLot.id.in_(lot_ids))
        )
        if latest is not None and latest > merged["shipped_on"]:
            raise field_error("shipped_on", f"A lot it carries was stored from {latest}, after it.")
    if "mass_kg" in changes:
        problem = total_problem(
            merged["mass_kg"], [line.mass_kg for line in lines], checks.disposed_mass_tolerance_kg
        )
        if problem is not None:
            raise field_error("mass_kg", problem)
    await change_recorded(session, principal, "pcb_shipment", shipment, changes)
    await _set_lot_statuses(session, shipment, lot_ids)


async def delete_shipment(
    session: AsyncSession, principal: Principal, shipment: PcbShipment
) -> None:
    """Remove a shipment recorded by mistake; its lots are back in storage. Refused while
    an item's elimination evidence points to it."""
    citing = await session.scalar(
        select(PcbStatusEvent.item_id).where(PcbStatusEvent.shipment_id == shipment.id).limit(1)
    )
    if citing is not None:
        raise Problem(
            409,
            "shipment-cited",
            f"The elimination evidence of item {citing} points to shipment {shipment.id}.",
        )
    lines = (await _lines(session, [shipment.id]))[shipment.id]
    before = snapshot(shipment)
    await session.execute(delete(PcbShipmentLine).where(PcbShipmentLine.shipment_id == shipment.id))
    await _set_lot_statuses(session, None, [line.lot_id for line in lines if line.lot_id])
    await session.delete(shipment)
    await session.flush()
    record_change(
        session,
        principal,
        entity="pcb_shipment",
        entity_id=before["id"],
        action="delete",
        before=before,
    )


async def shipment_outs(
    session: AsyncSession, shipments: Sequence[PcbShipment]
) -> list[PcbShipmentOut]:
    """The shipments with their lines."""
    lines = await _lines(session, [s.id for s in shipments])
    return [
        PcbShipmentOut.model_validate(
            {
                **{c: getattr(s, c) for c in PcbShipmentOut.model_fields if hasattr(s, c)},
                "lines": [ShipmentLineOut.model_validate(line) for line in lines[s.id]],
            }
        )
        for s in shipments
    ]


# -- what the PCB items ask -----------------------------------------------------------------


async def check_evidence_shipment(
    session: AsyncSession, item: PcbItem, shipment_id: int, country: str, disposed_on: date
) -> None:
    """422 unless the shipment is the item's holder's, in the item's submission, and
    carries the item, to the evidence's country and before its disposal."""
    shipment = await session.get(PcbShipment, shipment_id)
    if (
        shipment is None
        or shipment.holder_id != item.holder_id
        or shipment.submission_id != item.submission_id
    ):
        raise field_error(
            "elimination.shipment_id",
            f"No shipment {shipment_id} of holder {item.holder_id} in the item's submission.",
        )
    carried = await session.scalar(
        select(PcbShipmentLine.id).where(
            PcbShipmentLine.shipment_id == shipment_id, PcbShipmentLine.item_id == item.id
        )
    )
    if carried is None:
        raise field_error(
            "elimination.shipment_id", f"Shipment {shipment_id} does not carry item {item.id}."
        )
    if shipment.facility_country != country:
        raise field_error(
            "elimination.country",
            f"country {country} is not the shipment's destination {shipment.facility_country}.",
        )
    if disposed_on < shipment.shipped_on:
        raise field_error(
            "elimination.disposed_on",
            f"disposed_on {disposed_on} is before the shipment left ({shipment.shipped_on}).",
        )


async def check_item_unreferenced(session: AsyncSession, item_id: int) -> None:
    """409 while a shipment carries the item or a lot names it as its source (remove
    those first)."""
    shipment = await session.scalar(
        select(PcbShipmentLine.shipment_id).where(PcbShipmentLine.item_id == item_id).limit(1)
    )
    if shipment is not None:
        raise Problem(409, "item-shipped", f"Shipment {shipment} carries item {item_id}.")
    lot = await session.scalar(
        select(PcbWasteSource.lot_id).where(PcbWasteSource.item_id == item_id).limit(1)
    )
    if lot is not None:
        raise Problem(409, "item-in-lot", f"Lot {lot} names item {item_id} as its source.")
