"""Submission (inventory cycle) representations."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.inventory.registry.schemas import StrictModel
from services.inventory.submissions.rules import Section, SubmissionStatus

Year = Field(ge=1990, le=2100, description="Reporting year")


class SubmissionIn(StrictModel):
    """A new draft submission of the caller's organisation."""

    year: int = Year
    section: Section

    model_config = ConfigDict(json_schema_extra={"examples": [{"year": 2025, "section": "pcb"}]})


class CommentIn(StrictModel):
    """An optional comment recorded with a workflow move."""

    comment: str | None = Field(default=None, max_length=4000)


class ReturnIn(StrictModel):
    """Returning a submission needs a comment saying what to fix."""

    comment: str = Field(min_length=1, max_length=4000)


class CorrectionIn(StrictModel):
    """Why validated data needs a correction."""

    reason: str = Field(min_length=1, max_length=4000)


class SubmissionOut(BaseModel):
    """A submission as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    org_code: str
    year: int
    section: Section
    status: SubmissionStatus
    revision: int
    supersedes_id: int | None
    superseded_by_id: int | None
    correction_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    validated_at: datetime | None
    version: int
    counts_nationally: bool = Field(
        description="True for the latest validated version: only it enters national figures."
    )


class SubmissionEventOut(BaseModel):
    """One recorded workflow move."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    submission_id: int
    from_status: str | None
    to_status: str
    at: datetime
    client_id: str
    org_code: str
    comment: str | None
