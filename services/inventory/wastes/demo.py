"""The demo's PCB waste lots and shipment, recorded through the service's own functions
while the demo PCB submission is a draft (matched by natural key: holder + lot_ref;
holder + notification number), so a second load adds nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.mass import MassChecks
from services.inventory.pcb.models import PcbItem
from services.inventory.registry.models import Holder, Site
from services.inventory.submissions.models import Submission
from services.inventory.wastes.models import PcbShipment, PcbWasteLot
from services.inventory.wastes.schemas import PcbShipmentIn, PcbWasteLotIn
from services.inventory.wastes.service import create_lot
from services.inventory.wastes.shipments import create_shipment
from shared.security import Principal

# The settings' defaults (INVENTORY_PCB_*_TOLERANCE*): the demo is checked as the API would.
_DENSITY_TOLERANCE = Decimal("0.2")
_MASS_TOLERANCE_KG = Decimal("0.001")


async def _item_id(
    session: AsyncSession, submission: Submission, holder: Holder, serial: str
) -> int:
    found = await session.scalar(
        select(PcbItem.id).where(
            PcbItem.submission_id == submission.id,
            PcbItem.holder_id == holder.id,
            PcbItem.serial_number == serial,
        )
    )
    if found is None:
        raise LookupError(f"demo item {serial} of {holder.ruc} is missing")
    return int(found)


async def _lot_id(session: AsyncSession, submission: Submission, holder: Holder, ref: str) -> int:
    found = await session.scalar(
        select(PcbWasteLot.id).where(
            PcbWasteLot.submission_id == submission.id,
            PcbWasteLot.holder_id == holder.id,
            PcbWasteLot.lot_ref == ref,
        )
    )
    if found is None:
        raise LookupError(f"demo lot {ref} of {holder.ruc} is missing")
    return int(found)


async def load_demo_wastes(
    session: AsyncSession,
    owner: Principal,
    submission: Submission,
    data: dict[str, Any],
    holders: dict[str, Holder],
    sites: dict[tuple[str, str], Site],
) -> int:
    """Add the missing demo lots and shipments of ``submission``; how many were added."""
    added = 0
    for spec in data.get("pcb_waste_lots", []):
        holder = holders[spec["holder_ruc"]]
        if await session.scalar(
            select(PcbWasteLot.id).where(
                PcbWasteLot.submission_id == submission.id,
                PcbWasteLot.holder_id == holder.id,
                PcbWasteLot.lot_ref == spec["lot_ref"],
            )
        ):
            continue
        given = {
            k: v
            for k, v in spec.items()
            if k not in ("holder_ruc", "site", "source_serial_numbers")
        }
        sources = [
            await _item_id(session, submission, holder, s)
            for s in spec.get("source_serial_numbers", [])
        ]
        site = sites[(spec["holder_ruc"], spec["site"])]
        lot = PcbWasteLotIn.model_validate(
            given | {"holder_id": holder.id, "site_id": site.id, "source_item_ids": sources}
        )
        await create_lot(session, owner, submission, lot)
        added += 1
    checks = MassChecks(await load_densities(session), _DENSITY_TOLERANCE, _MASS_TOLERANCE_KG)
    for spec in data.get("pcb_shipments", []):
        holder = holders[spec["holder_ruc"]]
        if await session.scalar(
            select(PcbShipment.id).where(
                PcbShipment.submission_id == submission.id,
                PcbShipment.holder_id == holder.id,
                PcbShipment.notification_number == spec["notification_number"],
            )
        ):
            continue
        lines = []
        for line in spec["lines"]:
            mass = {"mass_kg": line["mass_kg"]} if "mass_kg" in line else {}
            if "serial_number" in line:
                lines.append(
                    {"item_id": await _item_id(session, submission, holder, line["serial_number"])}
                    | mass
                )
            else:
                lines.append(
                    {"lot_id": await _lot_id(session, submission, holder, line["lot_ref"])} | mass
                )
        given = {k: v for k, v in spec.items() if k not in ("holder_ruc", "lines")}
        shipment = PcbShipmentIn.model_validate(given | {"holder_id": holder.id, "lines": lines})
        await create_shipment(session, owner, submission, shipment, checks)
        added += 1
    return added
