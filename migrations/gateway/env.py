"""Alembic environment of the gateway database."""

from migrations.environment import run
from services.gateway import models  # noqa: F401 - registers every table on the metadata
from services.gateway.db import Base
from services.gateway.settings import GatewaySettings

run(
    default_url=GatewaySettings().database_url,
    metadata=Base.metadata,
    version_table="alembic_version_gateway",
)
