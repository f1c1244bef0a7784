"""The inventory service: POPs and mercury inventory of Peru."""

from __future__ import annotations

from fastapi import FastAPI

from services.inventory.pcb.router import router as pcb_router
from services.inventory.registry.router import router as registry_router
from services.inventory.settings import InventorySettings
from shared.app import build_service_app
from shared.tokens import KeySource


def create_app(
    settings: InventorySettings | None = None, *, key_source: KeySource | None = None
) -> FastAPI:
    """Build the inventory app (settings from the environment unless given; ``key_source``
    replaces the configured token keys)."""
    return build_service_app(
        title="Enlace inventory",
        description=(
            "National inventory of persistent organic pollutants and mercury (Stockholm and "
            "Minamata conventions): holders, sites, PCB equipment, release estimates and "
            "inventory cycles."
        ),
        version="1.0.0",
        settings=settings or InventorySettings(),
        key_source=key_source,
        routers=[registry_router, pcb_router],
    )
