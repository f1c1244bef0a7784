"""Alembic environment of the inventory database."""

from migrations.environment import run
from services.inventory import models  # noqa: F401 - registers every table on the metadata
from services.inventory.db import Base
from services.inventory.settings import InventorySettings

run(
    default_url=InventorySettings().database_url,
    metadata=Base.metadata,
    version_table="alembic_version_inventory",
)
