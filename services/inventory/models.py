"""Every inventory model, imported so the metadata is complete (Alembic, tests)."""

from services.inventory import events  # noqa: F401 - the webhook tables
from services.inventory.factors.models import EmissionFactor
from services.inventory.history import ChangeRecord, IdempotencyKey
from services.inventory.mercury.factors import MercuryFactor
from services.inventory.mercury.models import MercuryEstimate, MercuryRelease
from services.inventory.pcb.models import (
    FluidDensity,
    PcbAnalysis,
    PcbInspection,
    PcbItem,
    PcbStatusEvent,
    PcbThresholds,
)
from services.inventory.plans.models import ActionPlan, PlanTarget
from services.inventory.registry.models import Holder, Site
from services.inventory.reports.cells import PcbSummaryCell
from services.inventory.submissions.models import Submission, SubmissionEvent
from services.inventory.upops.models import UpopsEstimate, UpopsRelease
from services.inventory.wastes.models import (
    PcbShipment,
    PcbShipmentLine,
    PcbWasteLot,
    PcbWasteSource,
)

__all__ = [
    "ActionPlan",
    "ChangeRecord",
    "EmissionFactor",
    "FluidDensity",
    "Holder",
    "IdempotencyKey",
    "MercuryEstimate",
    "MercuryFactor",
    "MercuryRelease",
    "PcbAnalysis",
    "PcbInspection",
    "PcbItem",
    "PcbShipment",
    "PcbShipmentLine",
    "PcbStatusEvent",
    "PcbSummaryCell",
    "PcbThresholds",
    "PcbWasteLot",
    "PcbWasteSource",
    "PlanTarget",
    "Site",
    "Submission",
    "SubmissionEvent",
    "UpopsEstimate",
    "UpopsRelease",
]
