"""A correction of PCB data copies the submission's waste lots and shipments with its
items (``validation.copy_items``), so the correction holds the whole inventory and its
elimination evidence points to the correction's own shipments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.pcb.models import PcbItem, PcbStatusEvent
from services.inventory.wastes.models import (
    PcbShipment,
    PcbShipmentLine,
    PcbWasteLot,
    PcbWasteSource,
)

# Columns a copy gets anew (as ``validation._RENEWED``).
_RENEWED = {"id", "submission_id", "created_at", "updated_at", "version"}


def _columns(model: Any) -> list[str]:
    return [c.key for c in model.__table__.columns if c.key not in _RENEWED]


async def _item_ids(session: AsyncSession, from_id: int, to_id: int) -> dict[int, int]:
    """Old item id -> its copy, matched by the items' natural key."""
    rows = await session.execute(
        select(
            PcbItem.id,
            PcbItem.submission_id,
            PcbItem.holder_id,
            PcbItem.manufacturer,
            PcbItem.serial_number,
        ).where(PcbItem.submission_id.in_([from_id, to_id]))
    )
    old: dict[tuple[Any, ...], int] = {}
    new: dict[tuple[Any, ...], int] = {}
    for item_id, submission_id, *key in rows:
        (old if submission_id == from_id else new)[tuple(key)] = item_id
    return {old_id: new[key] for key, old_id in old.items() if key in new}


async def copy_wastes(session: AsyncSession, *, from_id: int, to_id: int) -> int:
    """Copy the lots (with their sources) and shipments (with their lines) of one PCB
    submission into another, after its items; the number of records copied. The copied
    status events are pointed at the copied shipments."""
    items = await _item_ids(session, from_id, to_id)
    lots: dict[int, int] = {}
    for lot in await session.scalars(
        select(PcbWasteLot).where(PcbWasteLot.submission_id == from_id).order_by(PcbWasteLot.id)
    ):
        copy = PcbWasteLot(
            **{c: getattr(lot, c) for c in _columns(PcbWasteLot)}, submission_id=to_id
        )
        session.add(copy)
        await session.flush()
        lots[lot.id] = copy.id
    sources = await session.scalars(select(PcbWasteSource).where(PcbWasteSource.lot_id.in_(lots)))
    session.add_all(
        PcbWasteSource(lot_id=lots[s.lot_id], item_id=items[s.item_id]) for s in sources
    )
    shipments: dict[int, int] = {}
    for shipment in await session.scalars(
        select(PcbShipment).where(PcbShipment.submission_id == from_id).order_by(PcbShipment.id)
    ):
        shipment_copy = PcbShipment(
            **{c: getattr(shipment, c) for c in _columns(PcbShipment)}, submission_id=to_id
        )
        session.add(shipment_copy)
        await session.flush()
        shipments[shipment.id] = shipment_copy.id
    lines = await session.scalars(
        select(PcbShipmentLine).where(PcbShipmentLine.shipment_id.in_(shipments))
    )
    session.add_all(
        PcbShipmentLine(
            shipment_id=shipments[line.shipment_id],
            lot_id=None if line.lot_id is None else lots[line.lot_id],
            item_id=None if line.item_id is None else items[line.item_id],
            mass_kg=line.mass_kg,
        )
        for line in lines
    )
    await session.flush()
    for old, new in shipments.items():
        await session.execute(
            update(PcbStatusEvent)
            .where(PcbStatusEvent.shipment_id == old, PcbStatusEvent.item_id.in_(items.values()))
            .values(shipment_id=new)
        )
    return len(lots) + len(shipments)
