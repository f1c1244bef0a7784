"""PCB items, their analyses and status history: plain functions, session first."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.access import check_editable, check_owner, submission_visible
from services.inventory.history import record_change, snapshot
from services.inventory.pcb.classes import concentration_of, item_class, item_flags, item_masses
from services.inventory.pcb.fields import EVIDENCE_COLUMNS
from services.inventory.pcb.fluids import fluid_kind_from_trade_name
from services.inventory.pcb.mass import MassChecks, MassEstimate, fluid_volume
from services.inventory.pcb.models import PcbAnalysis, PcbInspection, PcbItem, PcbStatusEvent
from services.inventory.pcb.rules import (
    DEFAULT_INSPECTION_INTERVAL_MONTHS,
    Analysis,
    AnalysisMethod,
    OperatingStatus,
    Thresholds,
    effective_concentration,
)
from services.inventory.pcb.schemas import (
    AnalysisIn,
    EffectiveConcentration,
    EliminationIn,
    InspectionIn,
    MassOut,
    PcbItemIn,
    PcbItemOut,
    PcbItemPatch,
    StatusAsOf,
    StatusEventIn,
    VolumeOut,
)
from services.inventory.pcb.status import (
    EliminationEvidence,
    StatusInForce,
    TransitionError,
    check_transition,
    evidence_problems,
)
from services.inventory.registry.models import Holder, Site
from services.inventory.registry.service import add_recorded, change_recorded, field_error
from services.inventory.submissions.models import Submission
from services.inventory.wastes.shipments import check_evidence_shipment, check_item_unreferenced
from shared.db import utcnow
from shared.problems import Problem
from shared.security import Principal


def _mass_out(estimate: MassEstimate) -> MassOut:
    return MassOut(
        kg=estimate.kg,
        method=estimate.method,
        density_kg_per_l=estimate.density_kg_per_l,
        not_weighed_reason=estimate.reason,
    )


def item_out(
    item: PcbItem,
    thresholds: Thresholds,
    densities: dict[str, Decimal],
    as_of: date,
    state: StatusInForce | None = None,
    last_inspected_on: date | None = None,
    inspection_months: int = DEFAULT_INSPECTION_INTERVAL_MONTHS,
) -> PcbItemOut:
    """The API view of an item, with class, flags and masses computed now; the flags
    judged in ``state``, the status in force on ``as_of`` (default: the current one), and
    on the latest inspection on or before ``as_of``."""
    state = state or StatusInForce(OperatingStatus(item.status), item.status_since)
    conc = concentration_of(item)
    fields = {name: getattr(item, name) for name in PcbItemOut.model_fields if hasattr(item, name)}
    fluid, total = item_masses(item, densities)
    volume = fluid_volume(item.fluid_volume_l, item.fluid_mass_kg, item.fluid_kind, densities)
    return PcbItemOut(
        **fields,
        effective_concentration=EffectiveConcentration(
            kind=conc.kind, value_mg_per_kg=conc.value_mg_per_kg, source=conc.source
        ),
        fluid_mass=_mass_out(fluid),
        total_mass=_mass_out(total),
        fluid_volume=VolumeOut(
            litres=volume.litres, method=volume.method, density_kg_per_l=volume.density_kg_per_l
        ),
        pcb_class=item_class(item, thresholds, densities),
        compliance_flags=item_flags(
            item, thresholds, densities, as_of, state, last_inspected_on, inspection_months
        ),
        status_as_of=StatusAsOf(status=state.status, since=state.since),
        as_of=as_of,
    )


async def visible_item(
    session: AsyncSession, principal: Principal, item_id: int
) -> tuple[PcbItem, Submission]:
    """The item and its submission if the caller may see them, else 404."""
    row = (
        await session.execute(
            select(PcbItem, Submission)
            .join(Submission, Submission.id == PcbItem.submission_id)
            .where(PcbItem.id == item_id, submission_visible(principal))
        )
    ).first()
    if row is None:
        raise Problem(404, "not-found", f"No PCB item {item_id}.")
    return row[0], row[1]


async def editable_item(
    session: AsyncSession, principal: Principal, item_id: int
) -> tuple[PcbItem, Submission]:
    """The item if the caller's organisation may change it now (404/403/409 otherwise)."""
    item, submission = await visible_item(session, principal, item_id)
    check_owner(principal, submission.org_code, f"PCB item {item_id}")
    check_editable(submission)
    return item, submission


async def _holder_and_site(
    session: AsyncSession, submission: Submission, holder_id: int, site_id: int
) -> tuple[Holder, Site]:
    holder = await session.get(Holder, holder_id)
    if holder is None or holder.org_code != submission.org_code:
        raise field_error("holder_id", f"No holder {holder_id} of {submission.org_code}.")
    site = await session.get(Site, site_id)
    if site is None or site.holder_id != holder.id:
        raise field_error("site_id", f"No site {site_id} of holder {holder_id}.")
    return holder, site


async def _check_unique(
    session: AsyncSession, item: PcbItem, *, exclude_id: int | None = None
) -> None:
    query = select(PcbItem.id).where(
        PcbItem.submission_id == item.submission_id,
        PcbItem.holder_id == item.holder_id,
        PcbItem.manufacturer == item.manufacturer,
        PcbItem.serial_number == item.serial_number,
    )
    if exclude_id is not None:
        query = query.where(PcbItem.id != exclude_id)
    existing = await session.scalar(query)
    if existing is not None:
        raise Problem(
            409,
            "duplicate",
            f"Item {existing} of this submission already has this holder, manufacturer "
            "and serial number.",
            existing_id=existing,
        )


def _evidence(data: EliminationIn | None) -> EliminationEvidence | None:
    return None if data is None else EliminationEvidence(**data.model_dump(exclude={"shipment_id"}))


def first_status_event(
    item: PcbItem, *, client_id: str, org_code: str, elimination: EliminationIn | None = None
) -> PcbStatusEvent:
    """The event that starts a new item's status history (``eliminated`` with its
    evidence)."""
    return PcbStatusEvent(
        item_id=item.id,
        from_status=None,
        to_status=item.status,
        changed_on=item.status_since,
        client_id=client_id,
        org_code=org_code,
        comment="initial status",
        **_evidence_columns(elimination if item.status == OperatingStatus.ELIMINATED else None),
    )


def _evidence_columns(data: EliminationIn | None) -> dict[str, Any]:
    if data is None:
        return {}
    given = data.model_dump()
    return {column: given[name] for name, column in EVIDENCE_COLUMNS.items()} | {
        "shipment_id": data.shipment_id
    }


def _check_fluid(checks: MassChecks, volume_l: Decimal | None, mass_kg: Decimal | None) -> None:
    problem = checks.fluid_problem(volume_l, mass_kg)
    if problem is not None:
        raise field_error("fluid_mass_kg", problem)


def _check_disposed_mass(checks: MassChecks, values: Any, evidence: EliminationIn) -> None:
    problem = checks.disposed_mass_problem(values, evidence.mass_kg)
    if problem is not None:
        raise field_error("elimination.mass_kg", problem)


async def create_item(
    session: AsyncSession,
    principal: Principal,
    submission: Submission,
    data: PcbItemIn,
    integrity: MassChecks,
) -> PcbItem:
    """Add an item to an editable PCB submission, with its first status event."""
    _, site = await _holder_and_site(session, submission, data.holder_id, data.site_id)
    _check_fluid(integrity, data.fluid_volume_l, data.fluid_mass_kg)
    if data.status == OperatingStatus.ELIMINATED:
        evidence = _evidence(data.elimination)
        problems = ["elimination evidence is missing"] if evidence is None else []
        problems += evidence_problems(evidence) if evidence is not None else []
        if problems:
            raise field_error("elimination", "; ".join(problems))
    if data.status == OperatingStatus.DECONTAMINATED and data.status_since is None:
        raise field_error(
            "status_since",
            "decontaminated needs the date of decontamination (a GC analysis dated after "
            "it verifies it).",
        )
    fields = data.model_dump(exclude={"elimination"})
    if fields["fluid_kind"] is None:
        fields["fluid_kind"] = fluid_kind_from_trade_name(data.fluid_trade_name)
    if data.status == OperatingStatus.ELIMINATED and data.elimination is not None:
        if data.elimination.shipment_id is not None:
            raise field_error(
                "elimination.shipment_id",
                "No shipment carries an item not recorded yet: add the item, its shipment, "
                "then its elimination.",
            )
        facts = SimpleNamespace(**fields)
        _check_disposed_mass(integrity, facts, data.elimination)
    item = PcbItem(
        **fields,
        submission_id=submission.id,
        org_code=submission.org_code,
        department_code=site.ubigeo[:2],
        conc_kind="unknown",
    )
    await _check_unique(session, item)
    await add_recorded(session, principal, "pcb_item", item)
    session.add(
        first_status_event(
            item,
            client_id=principal.client_id,
            org_code=principal.org,
            elimination=data.elimination,
        )
    )
    return item


async def update_item(
    session: AsyncSession,
    principal: Principal,
    item: PcbItem,
    submission: Submission,
    patch: PcbItemPatch,
    integrity: MassChecks,
) -> None:
    """Apply a partial update to an editable item."""
    changes = patch.model_dump(exclude_unset=True)
    _check_fluid(
        integrity,
        changes.get("fluid_volume_l", item.fluid_volume_l),
        changes.get("fluid_mass_kg", item.fluid_mass_kg),
    )
    if "site_id" in changes:
        _, site = await _holder_and_site(session, submission, item.holder_id, changes["site_id"])
        changes["department_code"] = site.ubigeo[:2]
    if "fluid_trade_name" in changes and "fluid_kind" not in changes:
        derived = fluid_kind_from_trade_name(changes["fluid_trade_name"])
        if derived is not None:
            changes["fluid_kind"] = derived

    async def still_unique() -> None:
        if {"manufacturer", "serial_number"} & changes.keys():
            await _check_unique(session, item, exclude_id=item.id)

    await change_recorded(session, principal, "pcb_item", item, changes, still_unique)


async def delete_item(session: AsyncSession, principal: Principal, item: PcbItem) -> None:
    """Remove an item (and its analyses, history and inspections) from an editable
    submission."""
    await check_item_unreferenced(session, item.id)
    before = snapshot(item)
    await session.execute(delete(PcbAnalysis).where(PcbAnalysis.item_id == item.id))
    await session.execute(delete(PcbStatusEvent).where(PcbStatusEvent.item_id == item.id))
    await session.execute(delete(PcbInspection).where(PcbInspection.item_id == item.id))
    await session.delete(item)
    await session.flush()
    record_change(
        session,
        principal,
        entity="pcb_item",
        entity_id=before["id"],
        action="delete",
        before=before,
    )


def _analysis(source: PcbAnalysis | AnalysisIn) -> Analysis:
    """The rules' view of a stored or a new analysis (ValueError if its values do not fit
    its method)."""
    return Analysis(
        method=AnalysisMethod(source.method),
        analysed_on=source.analysed_on,
        value_mg_per_kg=source.value_mg_per_kg,
        screening_cutoff_mg_per_kg=source.screening_cutoff_mg_per_kg,
        screening_positive=source.screening_positive,
    )


async def recompute_concentration(session: AsyncSession, item: PcbItem) -> None:
    """Rewrite the item's effective concentration from all of its analyses (call in the
    transaction that changed them, so it is never stale)."""
    rows = await session.scalars(select(PcbAnalysis).where(PcbAnalysis.item_id == item.id))
    conc = effective_concentration(_analysis(r) for r in rows)
    item.conc_kind = conc.kind.value
    item.conc_value_mg_per_kg = conc.value_mg_per_kg
    item.conc_source = conc.source.value if conc.source else None
    item.conc_analysed_on = conc.analysed_on
    # Bumps the version even when the value is the same: the item's evidence changed.
    item.updated_at = utcnow()


async def find_analysis(session: AsyncSession, item: PcbItem, data: AnalysisIn) -> int | None:
    """The id of the item's analysis with the same method, date and sample, if any."""
    found: int | None = await session.scalar(
        select(PcbAnalysis.id).where(
            PcbAnalysis.item_id == item.id,
            PcbAnalysis.method == data.method.value,
            PcbAnalysis.analysed_on == data.analysed_on,
            PcbAnalysis.sample_ref == data.sample_ref,
        )
    )
    return found


async def add_analysis(
    session: AsyncSession, principal: Principal, item: PcbItem, data: AnalysisIn
) -> PcbAnalysis:
    """Record an analysis and reclassify the item."""
    if data.analysed_on > utcnow().date():
        raise field_error("analysed_on", "An analysis cannot be dated in the future.")
    try:
        _analysis(data)
    except (TypeError, ValueError) as exc:
        raise field_error("method", str(exc)) from None
    duplicate = await find_analysis(session, item, data)
    if duplicate is not None:
        raise Problem(
            409,
            "duplicate",
            f"Analysis {duplicate} has the same method, date and sample_ref; "
            "give another sample_ref for a second analysis that day.",
            existing_id=duplicate,
        )
    analysis = PcbAnalysis(item_id=item.id, created_by=principal.client_id, **data.model_dump())
    await add_recorded(session, principal, "pcb_analysis", analysis)
    await recompute_concentration(session, item)
    await session.flush()
    return analysis


async def add_inspection(
    session: AsyncSession, principal: Principal, item: PcbItem, data: InspectionIn
) -> PcbInspection:
    """Record an inspection; one that observed a leak marks the item as leaking (a later
    inspection without one does not clear it: the holder does, once repaired). The item's
    version changes either way, as its flags may."""
    if data.inspected_on > utcnow().date():
        raise field_error("inspected_on", "An inspection cannot be dated in the future.")
    inspection = PcbInspection(item_id=item.id, created_by=principal.client_id, **data.model_dump())
    await add_recorded(session, principal, "pcb_inspection", inspection)
    if data.leaking_observed:
        item.leaking = True
    item.updated_at = utcnow()
    await session.flush()
    return inspection


async def delete_analysis(
    session: AsyncSession, principal: Principal, item: PcbItem, analysis_id: int
) -> None:
    """Remove an analysis recorded by mistake and reclassify the item."""
    analysis = await session.get(PcbAnalysis, analysis_id)
    if analysis is None or analysis.item_id != item.id:
        raise Problem(404, "not-found", f"No analysis {analysis_id} of item {item.id}.")
    before = snapshot(analysis)
    await session.delete(analysis)
    await session.flush()
    await recompute_concentration(session, item)
    await session.flush()
    record_change(
        session,
        principal,
        entity="pcb_analysis",
        entity_id=analysis_id,
        action="delete",
        before=before,
    )


async def add_status_event(
    session: AsyncSession,
    principal: Principal,
    item: PcbItem,
    data: StatusEventIn,
    integrity: MassChecks,
) -> PcbStatusEvent:
    """Append a status change (allowed moves only, never dated before the previous one;
    ``eliminated`` with evidence that accounts for the item's mass)."""
    if data.changed_on > utcnow().date():
        raise field_error("changed_on", "A status change cannot be dated in the future.")
    previous = await session.scalar(
        select(func.max(PcbStatusEvent.changed_on)).where(PcbStatusEvent.item_id == item.id)
    )
    if previous is not None and data.changed_on < previous:
        raise field_error(
            "changed_on",
            f"A status change cannot be dated before the previous one ({previous}).",
        )
    evidence = _evidence(data.elimination)
    try:
        check_transition(OperatingStatus(item.status), data.to_status, evidence)
    except TransitionError as exc:
        message = str(exc)
        if "evidence" in message:
            raise field_error("elimination", message) from None
        raise Problem(409, "invalid-transition", message) from None
    eliminated = data.to_status == OperatingStatus.ELIMINATED
    if eliminated and data.elimination is not None:
        _check_disposed_mass(integrity, item, data.elimination)
        shipment_id = data.elimination.shipment_id
        if shipment_id is not None:
            evidence_in = data.elimination
            await check_evidence_shipment(
                session, item, shipment_id, evidence_in.country, evidence_in.disposed_on
            )
    event = PcbStatusEvent(
        item_id=item.id,
        from_status=item.status,
        to_status=data.to_status.value,
        changed_on=data.changed_on,
        client_id=principal.client_id,
        org_code=principal.org,
        comment=data.comment,
        **_evidence_columns(data.elimination if eliminated else None),
    )
    session.add(event)
    item.status = data.to_status.value
    item.status_since = data.changed_on
    await session.flush()
    record_change(
        session,
        principal,
        entity="pcb_item",
        entity_id=item.id,
        action="status",
        after={"status": item.status, "status_since": str(item.status_since)},
    )
    return event
