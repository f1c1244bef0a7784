"""Every inventory model, imported so the metadata is complete (Alembic, tests)."""

from services.inventory.history import ChangeRecord, IdempotencyKey
from services.inventory.pcb.models import (
    FluidDensity,
    PcbAnalysis,
    PcbItem,
    PcbStatusEvent,
    PcbThresholds,
)
from services.inventory.registry.models import Holder, Site
from services.inventory.releases.models import (
    EmissionFactor,
    MercuryEstimate,
    MercuryRelease,
    UpopsEstimate,
    UpopsRelease,
)
from services.inventory.reports.cells import PcbSummaryCell
from services.inventory.submissions.models import Submission, SubmissionEvent

__all__ = [
    "ChangeRecord",
    "EmissionFactor",
    "FluidDensity",
    "Holder",
    "IdempotencyKey",
    "MercuryEstimate",
    "MercuryRelease",
    "PcbAnalysis",
    "PcbItem",
    "PcbStatusEvent",
    "PcbSummaryCell",
    "PcbThresholds",
    "Site",
    "Submission",
    "SubmissionEvent",
    "UpopsEstimate",
    "UpopsRelease",
]
