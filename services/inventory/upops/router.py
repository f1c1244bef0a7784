"""Routes for UP-POPs release estimates (the catalogue's routes are ``factors.router``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.inventory.estimates.router import EstimateKind, estimate_routes
from services.inventory.routing import query_param
from services.inventory.submissions.rules import Section
from services.inventory.upops import service
from services.inventory.upops.models import UpopsEstimate, UpopsRelease
from services.inventory.upops.schemas import (
    UpopsEstimateIn,
    UpopsEstimateOut,
    UpopsEstimatePatch,
)
from shared.pagination import Page

router = APIRouter(prefix="/v1", tags=["unintentional POPs"])

UPOPS = EstimateKind(
    name="upops",
    label="UP-POPs release estimate",
    section=Section.UPOPS,
    table=UpopsEstimate,
    releases=UpopsRelease,
    schemas=(UpopsEstimateIn, UpopsEstimatePatch, UpopsEstimateOut, Page[UpopsEstimateOut]),
    out=service.upops_out,
    create=service.create_upops,
    update=service.update_upops,
    list_filter=query_param("source_group", Annotated[str | None, Query(pattern=r"^(10|[1-9])$")]),
    docs=(
        "Estimates the caller may see, each with its releases per vector in g TEQ/a "
        "(PCDD/F, dl-PCB, under the estimate's TEQ scheme) or g/a (HCB, PeCBz: mass, no "
        "scheme); ND stays not determined, never zero.",
        "Activity rate x catalogue factor per vector (µg per unit / 10^6 = g), in g TEQ/a "
        "or g/a (`unit`). The activity unit must be the unit the factors are per (else "
        "422); `teq_scheme` is refused for hcb and pecbz. Accepts `Idempotency-Key`.",
        "One estimate with its releases.",
        "In the caller's editable submission; needs `If-Match`. Releases are "
        "recomputed with the catalogue's current factors.",
    ),
)
estimate_routes(router, UPOPS)
