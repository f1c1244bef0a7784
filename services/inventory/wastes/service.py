"""PCB waste lots and shipments for disposal: plain functions, session first.

A lot and a shipment belong to a holder and to a PCB submission, like the holder's items:
the same organisation writes them while the submission is editable, and the same callers
see them (``submissions.access``). A shipment carries lots and items of its own
submission and holder only.
"""

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
from services.inventory.registry.models import Holder, Site
from services.inventory.registry.service import add_recorded, change_recorded, field_error
from services.inventory.submissions.access import check_editable, check_owner, submission_visible
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
    PcbWasteLotIn,
    PcbWasteLotOut,
    PcbWasteLotPatch,
    ShipmentLineIn,
    ShipmentLineOut,
)
from shared.db import utcnow
from shared.problems import Problem
from shared.security import Principal

# Equipment still in use (or ready to be) is not shipped for disposal.
_NOT_SHIPPABLE = frozenset({OperatingStatus.IN_USE.value, OperatingStatus.STANDBY.value})


# -- visibility ---------------------------------------------------------------------------


async def _visible(
    session: AsyncSession, principal: Principal, model: Any, record_id: int, what: str
) -> tuple[Any, Submission]:
    row = (
        await session.execute(
            select(model, Submission)
            .join(Submission, Submission.id == model.submission_id)
            .where(model.id == record_id, submission_visible(principal))
        )
    ).first()
    if row is None:
        raise Problem(404, "not-found", f"No {what} {record_id}.")
    return row[0], row[1]


async def visible_lot(
    session: AsyncSession, principal: Principal, lot_id: int
) -> tuple[PcbWasteLot, Submission]:
    """The lot and its submission if the caller may see them, else 404."""
    return await _visible(session, principal, PcbWasteLot, lot_id, "PCB waste lot")


async def visible_shipment(
    session: AsyncSession, principal: Principal, shipment_id: int
) -> tuple[PcbShipment, Submission]:
    """The shipment and its submission if the caller may see them, else 404."""
    return await _visible(session, principal, PcbShipment, shipment_id, "PCB shipment")


def check_writable(principal: Principal, submission: Submission, what: str) -> None:
    """403 unless the caller's organisation owns the submission, 409 unless it is
    editable."""
    check_owner(principal, submission.org_code, what)
    check_editable(submission)


def _today() -> date:
    return utcnow().date()


# -- lots ---------------------------------------------------------------------------------


async def _holder(session: AsyncSession, submission: Submission, holder_id: int) -> Holder:
    holder = await session.get(Holder, holder_id)
    if holder is None or holder.org_code != submission.org_code:
        raise field_error("holder_id", f"No holder {holder_id} of {submission.org_code}.")
    return holder


async def _storage(session: AsyncSession, holder_id: int, values: dict[str, Any]) -> None:
    """Fill ``ubigeo`` and ``department_code`` from the site, or from the address's
    ubigeo."""
    if values.get("site_id") is not None:
        site = await session.get(Site, values["site_id"])
        if site is None or site.holder_id != holder_id:
            raise field_error("site_id", f"No site {values['site_id']} of holder {holder_id}.")
        values["ubigeo"] = site.ubigeo
        values["storage_address"] = None
    values["department_code"] = values["ubigeo"][:2]


async def _check_sources(
    session: AsyncSession, submission_id: int, holder_id: int, item_ids: Sequence[int]
) -> None:
    if len(set(item_ids)) != len(item_ids):
        raise field_error("source_item_ids", "An item is named twice.")
    if not item_ids:
        return
    found = set(
        await session.scalars(
            select(PcbItem.id).where(
                PcbItem.id.in_(item_ids),
                PcbItem.submission_id == submission_id,
                PcbItem.holder_id == holder_id,
            )
        )
    )
    missing = [i for i in item_ids if i not in found]
    if missing:
        raise field_error(
            "source_item_ids",
            f"No PCB item {missing[0]} of holder {holder_id} in submission {submission_id}.",
        )


def _check_stored_since(day: date) -> None:
    if day > _today():
        raise field_error("stored_since", f"stored_since {day} is in the future.")


async def _check_unique_ref(session: AsyncSession, lot: PcbWasteLot) -> None:
    existing = await session.scalar(
        select(PcbWasteLot.id).where(
            PcbWasteLot.submission_id == lot.submission_id,
            PcbWasteLot.holder_id == lot.holder_id,
            PcbWasteLot.lot_ref == lot.lot_ref,
            PcbWasteLot.id != (lot.id or 0),
        )
    )
    if existing is not None:
        raise Problem(
            409,
            "duplicate",
            f"Lot {existing} of this holder and submission already has lot_ref {lot.lot_ref!r}.",
            existing_id=existing,
        )


async def _set_sources(session: AsyncSession, lot_id: int, item_ids: Sequence[int]) -> None:
    await session.execute(delete(PcbWasteSource).where(PcbWasteSource.lot_id == lot_id))
    session.add_all(PcbWasteSource(lot_id=lot_id, item_id=i) for i in item_ids)


async def create_lot(
    session: AsyncSession, principal: Principal, submission: Submission, data: PcbWasteLotIn
) -> PcbWasteLot:
    """Record a stored lot in an editable PCB submission."""
    await _holder(session, submission, data.holder_id)
    _check_stored_since(data.stored_since)
    await _check_sources(session, submission.id, data.holder_id, data.source_item_ids)
    values = data.model_dump(exclude={"source_item_ids"})
    await _storage(session, data.holder_id, values)
    lot = PcbWasteLot(
        **values,
        submission_id=submission.id,
        org_code=submission.org_code,
        status=LotStatus.STORED.value,
    )
    await _check_unique_ref(session, lot)
    await add_recorded(session, principal, "pcb_waste_lot", lot)
    await _set_sources(session, lot.id, data.source_item_ids)
    await session.flush()
    return lot


def _check_in_storage(lot: PcbWasteLot) -> None:
    if lot.status != LotStatus.STORED:
        raise Problem(
            409,
            "lot-shipped",
            f"Lot {lot.id} is {lot.status}: a lot a shipment carries does not change "
            "(remove the shipment first).",
        )


async def update_lot(
    session: AsyncSession, principal: Principal, lot: PcbWasteLot, patch: PcbWasteLotPatch
) -> None:
    """Change a stored lot (the merged result is checked as a new lot would be)."""
    _check_in_storage(lot)
    changes = patch.model_dump(exclude_unset=True)
    sources = changes.pop("source_item_ids", None)
    merged = {c: getattr(lot, c) for c in PcbWasteLotPatch.model_fields if hasattr(lot, c)}
    merged |= changes
    if merged["site_id"] is not None and {"storage_address", "ubigeo"} & changes.keys():
        field = "ubigeo" if "site_id" in changes else "site_id"
        raise field_error(
            field, "a lot at a site has the site's address: give site_id or an address"
        )
    if merged["site_id"] is None and (
        merged["storage_address"] is None or merged["ubigeo"] is None
    ):
        raise field_error("storage_address", "give site_id, or storage_address and ubigeo")
    if (merged["pcb_mg_per_kg"] is None) != (merged["concentration_basis"] is None):
        raise field_error(
            "concentration_basis", "pcb_mg_per_kg and concentration_basis go together"
        )
    _check_stored_since(merged["stored_since"])
    await _storage(session, lot.holder_id, merged)
    if sources is not None:
        await _check_sources(session, lot.submission_id, lot.holder_id, sources)
        await _set_sources(session, lot.id, sources)
    fields = {k: v for k, v in merged.items() if getattr(lot, k) != v}
    if sources is not None:
        lot.updated_at = utcnow()  # its sources are part of it

    async def still_unique() -> None:
        if "lot_ref" in fields:
            await _check_unique_ref(session, lot)

    await change_recorded(session, principal, "pcb_waste_lot", lot, fields, still_unique)


async def delete_lot(session: AsyncSession, principal: Principal, lot: PcbWasteLot) -> None:
    """Remove a stored lot recorded by mistake."""
    _check_in_storage(lot)
    before = snapshot(lot)
    await session.execute(delete(PcbWasteSource).where(PcbWasteSource.lot_id == lot.id))
    await session.delete(lot)
    await session.flush()
    record_change(
        session,
        principal,
        entity="pcb_waste_lot",
        entity_id=before["id"],
        action="delete",
        before=before,
    )


async def lot_outs(session: AsyncSession, lots: Sequence[PcbWasteLot]) -> list[PcbWasteLotOut]:
    """The lots with their sources and the shipment carrying each."""
    ids = [lot.id for lot in lots]
    sources: dict[int, list[int]] = {i: [] for i in ids}
    carried: dict[int, int] = {}
    if ids:
        rows = await session.execute(
            select(PcbWasteSource.lot_id, PcbWasteSource.item_id)
            .where(PcbWasteSource.lot_id.in_(ids))
            .order_by(PcbWasteSource.item_id)
        )
        for lot_id, item_id in rows:
            sources[lot_id].append(item_id)
        lines = await session.execute(
            select(PcbShipmentLine.lot_id, PcbShipmentLine.shipment_id).where(
                PcbShipmentLine.lot_id.in_(ids)
            )
        )
        carried = {row.lot_id: row.shipment_id for row in lines}
    return [
        PcbWasteLotOut.model_validate(
            {
                **{c: getattr(lot, c) for c in PcbWasteLotOut.model_fields if hasattr(lot, c)},
                "shipment_id": carried.get(lot.id),
                "source_item_ids": sources[lot.id],
            }
        )
        for lot in lots
    ]


# -- shipments ----------------------------------------------------------------------------


def _check_dates(dates: ShipmentDates) -> None:
    problems = date_problems(dates, _today())
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
    await _holder(session, submission, data.holder_id)
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
