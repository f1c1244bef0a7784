"""Routes for mercury release estimates."""

from __future__ import annotations

from fastapi import APIRouter

from services.inventory.estimates.router import EstimateKind, estimate_routes
from services.inventory.mercury import service
from services.inventory.mercury.models import MercuryEstimate, MercuryRelease
from services.inventory.mercury.schemas import (
    MercuryEstimateIn,
    MercuryEstimateOut,
    MercuryEstimatePatch,
)
from services.inventory.routing import query_param
from services.inventory.submissions.rules import Section
from services.inventory.vocabulary import MercuryCategory
from shared.pagination import Page

router = APIRouter(prefix="/v1", tags=["mercury"])

MERCURY = EstimateKind(
    name="mercury",
    label="mercury release estimate",
    section=Section.MERCURY,
    table=MercuryEstimate,
    releases=MercuryRelease,
    schemas=(MercuryEstimateIn, MercuryEstimatePatch, MercuryEstimateOut, Page[MercuryEstimateOut]),
    out=service.mercury_out,
    create=service.create_mercury,
    update=service.update_mercury,
    list_filter=query_param("category", MercuryCategory | None),
    docs=(
        "Estimates the caller may see: input and releases per output pathway in "
        "kg Hg/a. Filter by `category` (ASGM is `asgm`).",
        "Input (kg Hg/a) = activity rate x input factor; each of the six output "
        "pathways gets input x its distribution factor; the factors must sum to 1 (±0.001). "
        "Accepts `Idempotency-Key`.",
        "One mercury estimate.",
        "In the caller's editable submission; needs `If-Match`.",
    ),
)
estimate_routes(router, MERCURY)
