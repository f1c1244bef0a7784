"""Every cooperation model, imported so the metadata is complete (Alembic, tests)."""

from services.cooperation.programs.models import (
    ActionArea,
    Goal,
    Objective,
    Organisation,
    PriorityArea,
    WorkProgram,
)

__all__ = ["ActionArea", "Goal", "Objective", "Organisation", "PriorityArea", "WorkProgram"]
