"""Who may see a holder; and, for the modules that still import them from here, the
submission checks of ``submissions.access`` (their home now: import them from there)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, or_, select, true

from services.inventory.pcb.models import PcbItem
from services.inventory.registry.models import Holder
from services.inventory.submissions.access import (
    REVIEW,
    VALIDATED,
    WRITE,
    check_editable,
    check_owner,
    editable_submission,
    is_reviewer,
    submission_visible,
    visible_submission,
)
from services.inventory.submissions.models import Submission
from shared.security import Principal

__all__ = [
    "REVIEW",
    "WRITE",
    "check_editable",
    "check_owner",
    "editable_submission",
    "holder_visible",
    "is_reviewer",
    "submission_visible",
    "visible_submission",
]


def holder_visible(principal: Principal) -> ColumnElement[bool]:
    """SQL condition: the caller may see this holder (and its sites).

    Its own organisation and reviewers see every holder; others see a holder once some
    validated submission lists equipment of it.
    """
    if is_reviewer(principal):
        return true()
    return or_(Holder.org_code == principal.org, _PUBLISHED)


# The same for every caller: built once (a statement is immutable; building it is not free).
_PUBLISHED = exists(
    select(PcbItem.id)
    .join(Submission, Submission.id == PcbItem.submission_id)
    .where(PcbItem.holder_id == Holder.id, Submission.status == VALIDATED)
)
