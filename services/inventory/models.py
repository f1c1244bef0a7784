"""Every inventory model, imported so the metadata is complete (Alembic, tests)."""

from services.inventory.pcb.models import PcbItem
from services.inventory.registry.models import Holder, Site

__all__ = ["Holder", "PcbItem", "Site"]
