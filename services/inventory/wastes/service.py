"""Stored PCB waste lots, and who sees and writes lots and shipments: plain functions,
session first (shipments in ``wastes.shipments``).

A lot and a shipment belong to a holder and to a PCB submission, like the holder's items:
the same organisation writes them while the submission is editable, and the same callers
see them (``submissions.access``). A shipment carries lots and items of its own
submission and holder only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.history import record_change, snapshot
from services.inventory.pcb.models import PcbItem
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
)
from services.inventory.wastes.schemas import (
    PcbWasteLotIn,
    PcbWasteLotOut,
    PcbWasteLotPatch,
)
from shared.db import utcnow
from shared.problems import Problem
from shared.security import Principal

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


def today() -> date:
    return utcnow().date()


# -- lots ---------------------------------------------------------------------------------


async def holder_of(session: AsyncSession, submission: Submission, holder_id: int) -> Holder:
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
    if day > today():
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
    await holder_of(session, submission, data.holder_id)
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
