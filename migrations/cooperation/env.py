"""Alembic environment of the cooperation database."""

from migrations.environment import run
from services.cooperation import models  # noqa: F401 - registers every table on the metadata
from services.cooperation.db import Base
from services.cooperation.settings import CooperationSettings

run(
    default_url=CooperationSettings().database_url,
    metadata=Base.metadata,
    version_table="alembic_version_cooperation",
)
