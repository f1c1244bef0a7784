"""``python -m services.inventory.seed``: load the demo inventory.

Idempotent: records are matched by natural key (RUC; holder + site name; organisation +
year + section for submissions; submission + holder + manufacturer + serial number for
items; item + method + date + sample for analyses; item + date + inspector for OEFA's
inspections; the action plan by its Spanish title) and only missing ones are added.
Submissions are drafts while their data is added, then submitted, reviewed and validated
through the workflow's own functions.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory import validation
from services.inventory.factors.catalogue import load_catalogue
from services.inventory.mercury.catalogue import load_mercury_catalogue
from services.inventory.mercury.models import MercuryEstimate
from services.inventory.mercury.schemas import MercuryEstimateIn
from services.inventory.mercury.service import create_mercury
from services.inventory.pcb.fluids import fluid_kind_from_trade_name
from services.inventory.pcb.models import PcbAnalysis, PcbInspection, PcbItem
from services.inventory.pcb.schemas import AnalysisIn, InspectionIn, PcbItemIn
from services.inventory.pcb.service import (
    add_inspection,
    find_analysis,
    first_status_event,
    recompute_concentration,
)
from services.inventory.plans import service as plans
from services.inventory.plans.models import ActionPlan
from services.inventory.plans.schemas import PlanIn, TargetIn
from services.inventory.registry.models import Holder, Site
from services.inventory.settings import InventorySettings
from services.inventory.submissions.access import REVIEW, WRITE
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section, SubmissionStatus
from services.inventory.submissions.service import create_submission, transition
from services.inventory.upops.models import UpopsEstimate
from services.inventory.upops.schemas import UpopsEstimateIn
from services.inventory.upops.service import create_upops
from services.inventory.wastes.demo import load_demo_wastes
from shared.db import Database
from shared.tokens import VerifiedToken

DEMO = Path(__file__).parent / "data" / "demo.json"
SEED_CLIENT = "demo-seed"
WORKFLOW = ("draft", "submitted", "under_review", "validated")
# Keys of a demo item that are not fields of the item itself.
_NOT_ITEM_FIELDS = ("holder_ruc", "site", "analyses", "inspections")


def _principal(org: str, scope: str) -> VerifiedToken:
    """The seed acting as ``org`` with ``scope``: an owner (``inventory:write``) or the
    reviewer (``inventory:review``)."""
    return VerifiedToken(
        client_id=SEED_CLIENT, org=org, scopes=frozenset({scope}), jti="demo-seed", exp=0
    )


async def _submission(session: AsyncSession, spec: dict[str, Any]) -> Submission:
    """The demo submission: found by natural key, or a new draft of its organisation (its
    data is added next; ``_advance`` then moves it through the workflow)."""
    found = await session.scalar(
        select(Submission).where(
            Submission.org_code == spec["org_code"],
            Submission.year == spec["year"],
            Submission.section == spec["section"],
            Submission.revision == 1,
        )
    )
    if found is not None:
        return found
    section = Section(spec["section"])
    owner = _principal(spec["org_code"], WRITE)
    return await create_submission(session, owner, year=spec["year"], section=section)


async def _advance(session: AsyncSession, submission: Submission, target: str) -> None:
    """Move the submission up to ``target`` through the workflow's own functions (as the
    workflow routes do): the owner submits, MINAM reviews and validates, so the dates and
    the events say who did what and when."""
    owner = _principal(submission.org_code, WRITE)
    reviewer = _principal("MINAM", REVIEW)
    for status in WORKFLOW[WORKFLOW.index(submission.status) + 1 : WORKFLOW.index(target) + 1]:
        principal = owner if status == SubmissionStatus.SUBMITTED else reviewer
        new = SubmissionStatus(status)
        await transition(session, principal, submission, new, "demo data")
        await validation.validated(session, submission)


async def _registry(
    session: AsyncSession, data: dict[str, Any]
) -> tuple[int, dict[str, Holder], dict[tuple[str, str], Site]]:
    added = 0
    holders: dict[str, Holder] = {}
    for h in data["holders"]:
        holder = await session.scalar(select(Holder).where(Holder.ruc == h["ruc"]))
        if holder is None:
            holder = Holder(**h)
            session.add(holder)
            added += 1
        holders[h["ruc"]] = holder
    await session.flush()
    sites: dict[tuple[str, str], Site] = {}
    for s in data["sites"]:
        holder = holders[s["holder_ruc"]]
        site = await session.scalar(
            select(Site).where(Site.holder_id == holder.id, Site.name == s["name"])
        )
        if site is None:
            fields = {k: v for k, v in s.items() if k != "holder_ruc"}
            fields["latitude"] = Decimal(s["latitude"])
            fields["longitude"] = Decimal(s["longitude"])
            site = Site(holder_id=holder.id, **fields)
            session.add(site)
            added += 1
        sites[(s["holder_ruc"], s["name"])] = site
    await session.flush()
    return added, holders, sites


async def _analyses(session: AsyncSession, item: PcbItem, specs: list[dict[str, Any]]) -> None:
    changed = False
    for spec in specs:
        data = AnalysisIn.model_validate(spec)
        if await find_analysis(session, item, data) is None:
            session.add(PcbAnalysis(item_id=item.id, created_by=SEED_CLIENT, **data.model_dump()))
            changed = True
    if changed:
        await session.flush()
        await recompute_concentration(session, item)


async def _inspections(session: AsyncSession, item: PcbItem, specs: list[dict[str, Any]]) -> None:
    """OEFA's inspections of the item, recorded as the route records them (a leak seen
    marks the item leaking); matched by date and inspector."""
    for spec in specs:
        data = InspectionIn.model_validate(spec)
        found = await session.scalar(
            select(PcbInspection.id).where(
                PcbInspection.item_id == item.id,
                PcbInspection.inspected_on == data.inspected_on,
                PcbInspection.inspector_org == data.inspector_org,
            )
        )
        if found is None:
            await add_inspection(session, SEED_PRINCIPAL, item, data)


SEED_PRINCIPAL = VerifiedToken(
    client_id=SEED_CLIENT, org="MINAM", scopes=frozenset(), jti="demo-seed", exp=0
)


async def _estimates(session: AsyncSession, data: dict[str, Any]) -> int:
    """The demo UP-POPs and mercury estimates, matched by submission and description."""
    added = 0
    upops = await _submission(session, data["upops_submission"])
    for spec in data["upops_estimates"]:
        if not await _has_estimate(session, UpopsEstimate, upops.id, spec["description"]):
            await create_upops(session, SEED_PRINCIPAL, upops, UpopsEstimateIn.model_validate(spec))
            added += 1
    await _advance(session, upops, data["upops_submission"]["status"])
    mercury = await _submission(session, data["mercury_submission"])
    for spec in data["mercury_estimates"]:
        if not await _has_estimate(session, MercuryEstimate, mercury.id, spec["description"]):
            estimate = MercuryEstimateIn.model_validate(spec)
            await create_mercury(session, SEED_PRINCIPAL, mercury, estimate)
            added += 1
    await _advance(session, mercury, data["mercury_submission"]["status"])
    return added


async def _has_estimate(
    session: AsyncSession, model: Any, submission_id: int, description: str
) -> bool:
    found = await session.scalar(
        select(model.id).where(
            model.submission_id == submission_id, model.description == description
        )
    )
    return found is not None


async def _action_plan(session: AsyncSession, spec: dict[str, Any]) -> None:
    """The demo action plan and its targets, written as MINAM's routes write them (matched
    by its Spanish title; an existing plan is left as it is)."""
    found = await session.scalar(
        select(ActionPlan.id).where(ActionPlan.title_es == spec["title_es"])
    )
    if found is not None:
        return
    fields = {k: v for k, v in spec.items() if k not in ("note", "targets")}
    plan = await plans.create_plan(session, SEED_PRINCIPAL, PlanIn.model_validate(fields))
    for target in spec["targets"]:
        await plans.create_target(session, SEED_PRINCIPAL, plan, TargetIn.model_validate(target))


async def load_demo(session: AsyncSession, data: dict[str, Any]) -> int:
    """Add the demo records that are missing; return how many holders, sites and PCB
    items were added (submissions, analyses, the Toolkit factor catalogues and the release
    estimates and the action plan come with them)."""
    added, holders, sites = await _registry(session, data)
    submission = await _submission(session, data["pcb_submission"])
    for spec in data["pcb_items"]:
        holder = holders[spec["holder_ruc"]]
        item = await session.scalar(
            select(PcbItem).where(
                PcbItem.submission_id == submission.id,
                PcbItem.holder_id == holder.id,
                PcbItem.manufacturer == spec["manufacturer"],
                PcbItem.serial_number == spec["serial_number"],
            )
        )
        if item is None:
            site = sites[(spec["holder_ruc"], spec["site"])]
            given = {k: v for k, v in spec.items() if k not in _NOT_ITEM_FIELDS}
            item_in = PcbItemIn.model_validate(given | {"holder_id": holder.id, "site_id": site.id})
            fields = item_in.model_dump(exclude={"elimination"})
            fields["fluid_kind"] = item_in.fluid_kind or fluid_kind_from_trade_name(
                item_in.fluid_trade_name
            )
            item = PcbItem(
                **fields,
                org_code=holder.org_code,
                submission_id=submission.id,
                department_code=site.ubigeo[:2],
                conc_kind="unknown",
            )
            session.add(item)
            await session.flush()
            session.add(first_status_event(item, client_id=SEED_CLIENT, org_code=holder.org_code))
            added += 1
        await _analyses(session, item, spec.get("analyses", []))
        await _inspections(session, item, spec.get("inspections", []))
    await session.flush()
    if submission.status == SubmissionStatus.DRAFT:
        # Waste lots and shipments: written as their owner writes them, while a draft.
        owner = _principal(submission.org_code, WRITE)
        await load_demo_wastes(session, owner, submission, data, holders, sites)
    await _advance(session, submission, data["pcb_submission"]["status"])
    # The Toolkit catalogues ship as data files of their own (factors/data, mercury/data).
    await load_catalogue(session, SEED_PRINCIPAL)
    await load_mercury_catalogue(session, SEED_PRINCIPAL)
    if "upops_estimates" in data:
        await _estimates(session, data)
    if "action_plan" in data:
        await _action_plan(session, data["action_plan"])
    return added


async def main() -> None:
    """Seed the configured inventory database."""
    db = Database(InventorySettings().database_url)
    try:
        async with db.sessions() as session:
            added = await load_demo(session, json.loads(DEMO.read_text(encoding="utf-8")))
            await session.commit()
    finally:
        await db.close()
    print(f"inventory: demo data loaded ({added} holders, sites and items added)")


if __name__ == "__main__":
    asyncio.run(main())
