"""``python -m services.inventory``: serve the inventory service."""

from services.inventory.app import create_app
from services.inventory.settings import InventorySettings
from shared.app import serve

settings = InventorySettings()
serve(create_app(settings), settings, "inventory")
